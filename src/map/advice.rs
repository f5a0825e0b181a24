//! `madvise(2)` advice: the safe set and the set that changes contents.

/// Advice that never changes what a map reads: safe to give at any time
/// ([`Map::advise`](crate::Map::advise)).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Advice {
    /// `MADV_NORMAL`: no special treatment.
    Normal,
    /// `MADV_RANDOM`: expect random access; read-ahead is less useful.
    Random,
    /// `MADV_SEQUENTIAL`: expect sequential access; read ahead aggressively.
    Sequential,
    /// `MADV_WILLNEED`: expect access soon; start reading ahead now.
    WillNeed,
    /// `MADV_DONTFORK`: do not make the range available to a `fork` child.
    DontFork,
    /// `MADV_DOFORK`: undo `DontFork`.
    DoFork,
    /// `MADV_MERGEABLE`: allow KSM to merge identical pages.
    Mergeable,
    /// `MADV_UNMERGEABLE`: undo `Mergeable`.
    Unmergeable,
    /// `MADV_HUGEPAGE`: back the range with transparent huge pages.
    HugePage,
    /// `MADV_NOHUGEPAGE`: do not use transparent huge pages.
    NoHugePage,
    /// `MADV_DONTDUMP`: exclude the range from core dumps.
    DontDump,
    /// `MADV_DODUMP`: undo `DontDump`.
    DoDump,
    /// `MADV_COLD` (Linux 5.4): deactivate the pages; they are reclaimed first.
    Cold,
    /// `MADV_PAGEOUT` (Linux 5.4): reclaim the pages now (contents are kept:
    /// file pages are written back and re-read on access).
    PageOut,
    /// `MADV_POPULATE_READ` (Linux 5.14): fault the pages in for reading now.
    /// Past end-of-file it fails with an error rather than a `SIGBUS`.
    PopulateRead,
    /// `MADV_POPULATE_WRITE` (Linux 5.14): fault the pages in writable now.
    /// Only on writable maps.
    PopulateWrite,
    /// `MADV_COLLAPSE` (Linux 6.1): collapse the range into transparent huge
    /// pages now, synchronously.
    Collapse,
}

impl Advice {
    pub(crate) fn raw(self) -> (i32, &'static str) {
        match self {
            Advice::Normal => (libc_madv::NORMAL, "MADV_NORMAL"),
            Advice::Random => (libc_madv::RANDOM, "MADV_RANDOM"),
            Advice::Sequential => (libc_madv::SEQUENTIAL, "MADV_SEQUENTIAL"),
            Advice::WillNeed => (libc_madv::WILLNEED, "MADV_WILLNEED"),
            Advice::DontFork => (libc_madv::DONTFORK, "MADV_DONTFORK"),
            Advice::DoFork => (libc_madv::DOFORK, "MADV_DOFORK"),
            Advice::Mergeable => (libc_madv::MERGEABLE, "MADV_MERGEABLE"),
            Advice::Unmergeable => (libc_madv::UNMERGEABLE, "MADV_UNMERGEABLE"),
            Advice::HugePage => (libc_madv::HUGEPAGE, "MADV_HUGEPAGE"),
            Advice::NoHugePage => (libc_madv::NOHUGEPAGE, "MADV_NOHUGEPAGE"),
            Advice::DontDump => (libc_madv::DONTDUMP, "MADV_DONTDUMP"),
            Advice::DoDump => (libc_madv::DODUMP, "MADV_DODUMP"),
            Advice::Cold => (libc_madv::COLD, "MADV_COLD"),
            Advice::PageOut => (libc_madv::PAGEOUT, "MADV_PAGEOUT"),
            Advice::PopulateRead => (libc_madv::POPULATE_READ, "MADV_POPULATE_READ"),
            Advice::PopulateWrite => (libc_madv::POPULATE_WRITE, "MADV_POPULATE_WRITE"),
            Advice::Collapse => (libc_madv::COLLAPSE, "MADV_COLLAPSE"),
        }
    }
}

/// Advice that can change what a map reads, so giving it is `unsafe`
/// ([`Map::unchecked_advise`](crate::Map::unchecked_advise)): no reference
/// into the range may rely on the old contents.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UncheckedAdvice {
    /// `MADV_DONTNEED`: drop the pages. Private and anonymous pages read as
    /// zeros (or the file's contents) afterwards.
    DontNeed,
    /// `MADV_FREE` (Linux 4.5): the kernel may free the pages lazily; private
    /// anonymous pages may then read as zeros.
    Free,
    /// `MADV_REMOVE`: free the pages and the file's backing store (punch a
    /// hole): the file reads as zeros there.
    Remove,
    /// `MADV_WIPEONFORK` (Linux 4.14): a `fork` child sees zeros here.
    WipeOnFork,
    /// `MADV_KEEPONFORK`: undo `WipeOnFork`.
    KeepOnFork,
    /// `MADV_HWPOISON`: poison the pages as if the memory failed (needs
    /// `CAP_SYS_ADMIN`; for testing).
    HwPoison,
}

impl UncheckedAdvice {
    pub(crate) fn raw(self) -> (i32, &'static str) {
        match self {
            UncheckedAdvice::DontNeed => (libc_madv::DONTNEED, "MADV_DONTNEED"),
            UncheckedAdvice::Free => (libc_madv::FREE, "MADV_FREE"),
            UncheckedAdvice::Remove => (libc_madv::REMOVE, "MADV_REMOVE"),
            UncheckedAdvice::WipeOnFork => (libc_madv::WIPEONFORK, "MADV_WIPEONFORK"),
            UncheckedAdvice::KeepOnFork => (libc_madv::KEEPONFORK, "MADV_KEEPONFORK"),
            UncheckedAdvice::HwPoison => (libc_madv::HWPOISON, "MADV_HWPOISON"),
        }
    }
}

/// Whether `raw` is `MADV_POPULATE_READ` or `MADV_POPULATE_WRITE`, whose
/// `EFAULT` means a page would raise `SIGBUS` (the file no longer backs it).
pub(super) fn populates(raw: i32) -> bool {
    matches!(raw, libc_madv::POPULATE_READ | libc_madv::POPULATE_WRITE)
}

/// Linux's `MADV_*` numbers (the same on every architecture xmmap builds for).
mod libc_madv {
    pub(super) const NORMAL: i32 = 0;
    pub(super) const RANDOM: i32 = 1;
    pub(super) const SEQUENTIAL: i32 = 2;
    pub(super) const WILLNEED: i32 = 3;
    pub(super) const DONTNEED: i32 = 4;
    pub(super) const FREE: i32 = 8;
    pub(super) const REMOVE: i32 = 9;
    pub(super) const DONTFORK: i32 = 10;
    pub(super) const DOFORK: i32 = 11;
    pub(super) const MERGEABLE: i32 = 12;
    pub(super) const UNMERGEABLE: i32 = 13;
    pub(super) const HUGEPAGE: i32 = 14;
    pub(super) const NOHUGEPAGE: i32 = 15;
    pub(super) const DONTDUMP: i32 = 16;
    pub(super) const DODUMP: i32 = 17;
    pub(super) const WIPEONFORK: i32 = 18;
    pub(super) const KEEPONFORK: i32 = 19;
    pub(super) const COLD: i32 = 20;
    pub(super) const PAGEOUT: i32 = 21;
    pub(super) const POPULATE_READ: i32 = 22;
    pub(super) const POPULATE_WRITE: i32 = 23;
    pub(super) const COLLAPSE: i32 = 25;
    pub(super) const HWPOISON: i32 = 100;
}
