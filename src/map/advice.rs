//! `madvise(2)` advice: the safe set and the set that changes contents.

use crate::sys::Madv;

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
    pub(crate) fn madv(self) -> Madv {
        match self {
            Advice::Normal => Madv::Normal,
            Advice::Random => Madv::Random,
            Advice::Sequential => Madv::Sequential,
            Advice::WillNeed => Madv::WillNeed,
            Advice::DontFork => Madv::DontFork,
            Advice::DoFork => Madv::DoFork,
            Advice::Mergeable => Madv::Mergeable,
            Advice::Unmergeable => Madv::Unmergeable,
            Advice::HugePage => Madv::HugePage,
            Advice::NoHugePage => Madv::NoHugePage,
            Advice::DontDump => Madv::DontDump,
            Advice::DoDump => Madv::DoDump,
            Advice::Cold => Madv::Cold,
            Advice::PageOut => Madv::PageOut,
            Advice::PopulateRead => Madv::PopulateRead,
            Advice::PopulateWrite => Madv::PopulateWrite,
            Advice::Collapse => Madv::Collapse,
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
    /// zeros (or the file's contents) afterwards. On macOS and FreeBSD it
    /// is the POSIX hint: the pages may be dropped but keep their contents.
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

/// Whether the running kernel knows `advice` (`madvise` of an empty range at
/// address 0, which only checks the advice).
#[cfg_attr(not(all(unix, feature = "memmap2-compat")), allow(dead_code))] // used by compat only
pub(crate) fn known(advice: Madv) -> bool {
    // SAFETY: an empty range owns no memory and changes none; with a length
    // of 0 the kernel only validates the advice.
    unsafe { crate::sys::madvise(std::ptr::null_mut(), 0, advice) }.is_ok()
}

impl UncheckedAdvice {
    pub(crate) fn madv(self) -> Madv {
        match self {
            UncheckedAdvice::DontNeed => Madv::DontNeed,
            UncheckedAdvice::Free => Madv::Free,
            UncheckedAdvice::Remove => Madv::Remove,
            UncheckedAdvice::WipeOnFork => Madv::WipeOnFork,
            UncheckedAdvice::KeepOnFork => Madv::KeepOnFork,
            UncheckedAdvice::HwPoison => Madv::HwPoison,
        }
    }
}
