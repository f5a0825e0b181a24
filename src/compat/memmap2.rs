//! memmap2 0.9's public API over xmmap's maps: replace `memmap2::` with
//! `xmmap::compat::memmap2::` and the code compiles and behaves as before.
//!
//! Every name, signature and safety contract is memmap2 0.9's, and so is the
//! behaviour on the edges: an empty file or a zero-length anonymous map
//! gives an empty map that can later be grown with `remap`, any byte offset
//! works, a length past the end of the file is allowed, a map outlives its
//! descriptor, and errors are [`std::io::Error`]s of the same
//! [`ErrorKind`](std::io::ErrorKind). Underneath, each type is a native
//! [`Map`], [`MapMut`] or [`MapRaw`], which make every mapping, range
//! check, flush, advice and protection change; the few questions this
//! module asks itself (a file's size, a memfd's seals, whether the kernel
//! knows an advice) go through xmmap's `sys` layer like every other call.
//!
//! Needs the `memmap2-compat` feature (off by default); Unix only.
//!
//! # Migrating
//!
//! ```
//! // use memmap2::{Mmap, MmapOptions};
//! use xmmap::compat::memmap2::{Mmap, MmapOptions};
//! # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2mod", std::process::id()));
//! # std::fs::write(&path, b"hello, world")?;
//! let file = std::fs::File::open(&path)?;
//!
//! // SAFETY: nobody modifies or truncates the file while the map lives.
//! let map = unsafe { MmapOptions::new().offset(7).map(&file)? };
//! assert_eq!(&map[..], b"world");
//!
//! // Adopting a native feature: the same mapping as an `xmmap::Map`, whose
//! // guarded `read_at` survives the file being truncated.
//! let native: xmmap::Map = map.into();
//! let mut buf = [0u8; 5];
//! assert_eq!(native.read_at(0, &mut buf)?, 5); // an error, not SIGBUS, if truncated
//! assert_eq!(&buf, b"world");
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `From` converts each type to its native counterpart and back
//! ([`Mmap`] ↔ [`Map`], [`MmapMut`] ↔ [`MapMut`], [`MmapRaw`] ↔
//! [`MapRaw`]), so a program can move one call site at a time. Advice that
//! memmap2 lacks (`Cold`, `PageOut`, `Collapse`, `WipeOnFork`, ...) is on
//! the native types.
//!
//! # What maps to what
//!
//! | memmap2 0.9 | here | native, underneath |
//! |---|---|---|
//! | `Mmap` (`Deref<[u8]>`, `AsRef`, `Debug`, `Send`, `Sync`) | [`Mmap`] | [`Map`] |
//! | `Mmap::map`, `map_if_safe`, `make_mut` | the same | [`MapOptions::map`], [`Map::make_mut`] |
//! | `MmapMut` (`DerefMut<[u8]>`, `AsRef`, `AsMut`, `Debug`) | [`MmapMut`] | [`MapMut`] |
//! | `MmapMut::map_mut`, `map_anon`, `make_read_only`, `make_exec` | the same | [`MapOptions::map_mut`], [`MapOptions::map_anon`], [`MapMut::make_read_only`], [`MapMut::make_exec`] |
//! | `flush`, `flush_async`, `flush_range`, `flush_async_range` (`MmapMut`, `MmapRaw`) | the same | [`MapMut::flush_range`], [`MapMut::flush_async_range`] |
//! | `MmapRaw`, `map_raw`, `as_ptr`, `as_mut_ptr`, `len`, `From<Mmap>`, `From<MmapMut>` | [`MmapRaw`], the same | [`MapRaw`] |
//! | `advise`, `advise_range`, `unchecked_advise`, `unchecked_advise_range`, `lock`, `unlock`, `remap` (all three types) | the same | [`Map::advise_range`], [`Map::unchecked_advise_range`], [`Map::lock`], [`Map::unlock`], [`Map::remap`] |
//! | `MmapOptions`: `new`, `offset`, `len`, `stack`, `huge`, `populate`, `no_reserve_swap`, `no_probe_handle` | [`MmapOptions`], the same | a [`MapOptions`] per call |
//! | `MmapOptions`: `map`, `map_exec`, `map_mut`, `map_copy`, `map_copy_read_only`, `map_anon`, `map_raw`, `map_raw_read_only`, `map_if_safe` | the same | the [`MapOptions`] constructor of the same name (`map_raw` through `map_mut`, as memmap2 maps it read-write) |
//! | `RemapOptions` (`new`, `may_move`) | [`RemapOptions`] | the native type, re-exported |
//! | `Advice`, `UncheckedAdvice` (Linux variants, same discriminants), `is_supported` | [`Advice`], [`UncheckedAdvice`] | [`Advice`](crate::Advice), [`UncheckedAdvice`](crate::UncheckedAdvice) |
//! | `MmapAsRawDesc` for `RawFd` and `&T: AsRawFd`, `MmapRawDescriptor` | [`MmapAsRawDesc`], [`MmapRawDescriptor`] | a borrowed [`File`] |
//! | `MapIfSafeError` (`not_supported`, `not_safe`, `map_failed`, `Display`, `Error`, `Into<io::Error>`) | [`MapIfSafeError`] | `fcntl(F_GET_SEALS)`, `statx` in `sys` |
//!
//! # Intended differences
//!
//! Where memmap2 is wrong, or where xmmap's discipline adds a check, this
//! module differs on purpose. Each difference that shows on Linux has a
//! test in `tests/integration/compat.rs`.
//!
//! 1. **`advise_range` past the end.** `advise_range` and
//!    `unchecked_advise_range` whose `offset + len` runs past the end of the
//!    map fail with `InvalidInput`. memmap2 checks `offset` and `len`
//!    separately against the length, so it advises pages after the map
//!    (another mapping's, or unmapped ones, failing with `ENOMEM`).
//! 2. **`remap` to a size that overflows.** A `new_len` that, with the bytes
//!    below an unaligned offset, overflows `usize` or exceeds `isize::MAX`
//!    fails with `InvalidInput` and leaves the map as it was. memmap2 adds
//!    without checking: a panic in debug builds, and in release builds a
//!    mapping resized to the wrapped, tiny length while reporting the huge
//!    one.
//! 3. **The mapping limit.** Every map is checked against xmmap's
//!    [`Limit`](crate::Limit), by default the one in `XMMAP_LIMIT` (git's
//!    `GIT_MMAP_LIMIT` syntax; unset means no limit). A map over it fails
//!    with `OutOfMemory` before any system call; a malformed `XMMAP_LIMIT`
//!    fails with `InvalidInput`.
//! 4. **An offset past the end of the file** fails with `InvalidInput` even
//!    when a length is given. memmap2 then maps pages that all raise
//!    `SIGBUS` when touched. (Without a length both fail with
//!    `InvalidData`, as memmap2 does.)
//! 5. **Errors carry xmmap's message only where no errno exists.** A
//!    failed system call gives memmap2's error exactly,
//!    `io::Error::from_raw_os_error(errno)`, so
//!    [`io::Error::raw_os_error`] is the same `Some(errno)` (an
//!    [`io::Error`] cannot hold both an errno and a message); so does a map
//!    of something that is not a file or device, refused before the call
//!    with the kernel's `ENODEV`. Errors raised before any system call
//!    (ranges, the mapping limit) have memmap2's kind and an
//!    [`xmmap::Error`](crate::Error) payload that names the operation; the
//!    native types keep the message for every error.
//! 6. **Huge page sizes the kernel does not offer** (`huge(Some(bits))`)
//!    are refused before the system call with `Unsupported`, where memmap2
//!    gets `EINVAL` (`InvalidInput`) from the kernel. An empty pool fails as
//!    in memmap2 (`ENOMEM`).
//! 7. **`flush_range` past the end** fails with `InvalidInput`, as in
//!    memmap2 0.9.11 and later; releases of 0.9 before 0.9.11 did unchecked
//!    pointer arithmetic there.
//! 8. **`huge` with `no_reserve_swap`** (`MAP_HUGETLB | MAP_NORESERVE`)
//!    fails with `InvalidInput`: it reserves no huge pages, so memmap2's
//!    safe `map_anon` then hands out memory whose first touch can raise
//!    `SIGBUS`. Use [`MapOptions::unchecked_map_anon`] for it.
//! 9. **Platforms.** Linux is the backend; on other Unix targets the
//!    constructors fail with `Unsupported`. memmap2's Windows descriptor
//!    (`RawHandle`) is not offered.
//!
//! memmap2's optional `stable_deref_trait` impls are here under xmmap's
//! feature of the same name: [`Mmap`] and [`MmapMut`] are `StableDeref`.
//!
//! A map made by `From` an *empty* native map has no placeholder mapping
//! behind it (see below), so `remap` on it fails with `InvalidInput`; maps
//! made by this module's constructors grow from empty as in memmap2.
//!
//! # How zero lengths work
//!
//! `mmap(2)` refuses a zero length. memmap2 maps one byte and hands out an
//! empty slice, so that an empty map still has an address and can be grown
//! with `remap`. This module does the same: it asks for a one-byte native
//! map and shows it as empty (the *placeholder*). Converting such a map to
//! a native type gives a native empty map.
//!
//! # Safety
//!
//! The unsafe code here does three things. It borrows a caller's raw
//! descriptor as a [`File`] that is never dropped, so never closed (memmap2
//! does the same); a descriptor that is not open makes the first system call
//! on it fail with `EBADF`. It moves the one owner of a mapping from one
//! native face to another, reading it out of a face that is then forgotten,
//! so the mapping keeps exactly one owner. And it passes the caller's
//! promises on to the native unsafe constructors, `remap` and the
//! unchecked advice, whose contracts are the same as memmap2's.
#![allow(unsafe_code)]

use std::fmt;
use std::fs::File;
use std::io;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

use crate::map::Inner;
use crate::sys::Errno;
use crate::{Map, MapMut, MapOptions, MapRaw};

pub use crate::RemapOptions;

// ---------------------------------------------------------------------------
// Descriptors

/// A file descriptor to map, as taken from a [`MmapAsRawDesc`] argument.
///
/// # Examples
///
/// ```
/// use std::os::fd::AsRawFd;
/// use xmmap::compat::memmap2::MmapAsRawDesc;
///
/// let file = std::fs::File::open("/dev/null")?;
/// let _from_ref = (&file).as_raw_desc();
/// let _from_fd = file.as_raw_fd().as_raw_desc();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct MmapRawDescriptor(RawFd);

/// What the constructors accept as a file: `&T` for any `T: AsRawFd` (a
/// [`File`], a `&File` borrowed again, any other descriptor owner) or a raw
/// [`RawFd`].
///
/// A raw descriptor must be open for the duration of the call; the map then
/// outlives it.
///
/// # Examples
///
/// ```
/// use std::os::fd::AsRawFd;
/// use xmmap::compat::memmap2::MmapOptions;
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2desc", std::process::id()));
/// # std::fs::write(&path, b"by descriptor")?;
/// let file = std::fs::File::open(&path)?;
/// let raw = MmapOptions::new().map_raw_read_only(file.as_raw_fd())?;
/// assert_eq!(raw.len(), 13);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait MmapAsRawDesc {
    /// The descriptor to map.
    fn as_raw_desc(&self) -> MmapRawDescriptor;
}

impl MmapAsRawDesc for RawFd {
    fn as_raw_desc(&self) -> MmapRawDescriptor {
        MmapRawDescriptor(*self)
    }
}

impl<T: AsRawFd> MmapAsRawDesc for &T {
    fn as_raw_desc(&self) -> MmapRawDescriptor {
        MmapRawDescriptor(self.as_raw_fd())
    }
}

impl MmapRawDescriptor {
    /// The descriptor as a `File` that is never dropped, hence never closed.
    fn file(&self) -> io::Result<ManuallyDrop<File>> {
        if self.0 < 0 {
            // `File::from_raw_fd` asserts against -1; the kernel would say EBADF.
            return Err(Errno::BADF.into());
        }
        // SAFETY: the `File` is wrapped in `ManuallyDrop` at once and lives
        // only for one constructor call, so it never closes the caller's
        // descriptor. The caller promised the descriptor is open (as with
        // memmap2); if it is not, the first system call on it fails with
        // EBADF.
        Ok(ManuallyDrop::new(unsafe { File::from_raw_fd(self.0) }))
    }
}

// ---------------------------------------------------------------------------
// Errors

/// An [`xmmap::Error`](crate::Error) as the [`io::Error`] memmap2 would
/// return. Where a system call failed it is memmap2's own
/// `io::Error::from_raw_os_error(errno)`, so code that matches
/// [`raw_os_error`](io::Error::raw_os_error) keeps working (an
/// `io::Error` holds an errno or a payload, never both); a refusal before
/// the call that would have said `ENODEV` is that errno too. Only errors
/// no system call gave carry xmmap's message.
fn io_error(e: crate::Error) -> io::Error {
    match (e.raw_os_error(), e.kind()) {
        (Some(code), _) => io::Error::from_raw_os_error(code),
        (None, crate::ErrorKind::NotMappable) => Errno::NODEV.into(),
        (None, _) => e.into(),
    }
}

/// memmap2's check that a length fits a slice; its error kind is `InvalidData`.
fn slice_len(len: u64) -> io::Result<usize> {
    if isize::try_from(len).is_err() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot map {len} bytes: a map's length must not exceed isize::MAX"),
        ));
    }
    Ok(len as usize)
}

/// The range check of a placeholder map, which shows no bytes: only the
/// empty range at 0 is inside it.
fn placeholder_range(op: &str, offset: usize, len: usize) -> io::Result<()> {
    if offset == 0 && len == 0 {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{op}: range of {len} bytes at offset {offset} is outside the map of 0 bytes"),
    ))
}

/// The length of a native map, for code generic over the faces.
trait Bytes {
    fn bytes(&self) -> usize;
}

impl Bytes for Map {
    fn bytes(&self) -> usize {
        self.len()
    }
}

impl Bytes for MapMut {
    fn bytes(&self) -> usize {
        self.len()
    }
}

impl Bytes for MapRaw {
    fn bytes(&self) -> usize {
        self.len()
    }
}

// ---------------------------------------------------------------------------
// Advice

/// Advice that does not change what a map reads (`madvise(2)`), with
/// memmap2's variants and discriminants (Linux's `MADV_*` numbers, so
/// `advice as i32` is the number).
///
/// # Examples
///
/// ```
/// use xmmap::compat::memmap2::{Advice, MmapMut};
///
/// let map = MmapMut::map_anon(1 << 16)?;
/// map.advise(Advice::Sequential)?;
/// assert_eq!(Advice::WillNeed as i32, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
#[repr(i32)]
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
pub enum Advice {
    /// `MADV_NORMAL`: no special treatment (the default).
    Normal = 0,
    /// `MADV_RANDOM`: expect page references in random order.
    Random = 1,
    /// `MADV_SEQUENTIAL`: expect page references in sequential order.
    Sequential = 2,
    /// `MADV_WILLNEED`: expect access soon; read ahead now.
    WillNeed = 3,
    /// `MADV_DONTFORK`: a `fork` child does not get this range.
    DontFork = 10,
    /// `MADV_DOFORK`: undo `DontFork`.
    DoFork = 11,
    /// `MADV_MERGEABLE`: let KSM merge pages with identical contents.
    Mergeable = 12,
    /// `MADV_UNMERGEABLE`: undo `Mergeable`.
    Unmergeable = 13,
    /// `MADV_HUGEPAGE`: back the range with transparent huge pages.
    HugePage = 14,
    /// `MADV_NOHUGEPAGE`: no transparent huge pages here.
    NoHugePage = 15,
    /// `MADV_DONTDUMP`: leave the range out of core dumps.
    DontDump = 16,
    /// `MADV_DODUMP`: undo `DontDump`.
    DoDump = 17,
    /// `MADV_HWPOISON`: poison the pages as if the memory had failed; a
    /// later touch raises `SIGBUS`. Needs `CAP_SYS_ADMIN`. memmap2 counts
    /// this as safe advice, and so does this module.
    HwPoison = 100,
    /// `MADV_POPULATE_READ` (Linux 5.14): fault the pages in for reading.
    PopulateRead = 22,
    /// `MADV_POPULATE_WRITE` (Linux 5.14): fault the pages in for writing.
    PopulateWrite = 23,
}

/// Advice that can change what a map reads, so giving it is `unsafe`, with
/// memmap2's variants and discriminants.
///
/// # Examples
///
/// ```
/// use xmmap::compat::memmap2::{MmapMut, UncheckedAdvice};
///
/// let mut map = MmapMut::map_anon(4096)?;
/// map[0] = 1;
/// // SAFETY: no reference into the map is alive across the call.
/// unsafe { map.unchecked_advise(UncheckedAdvice::DontNeed)? };
/// // Linux: private anonymous pages read as zeros again; on macOS and
/// // FreeBSD MADV_DONTNEED is a hint that may keep them.
/// assert!(map[0] == 0 || map[0] == 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[repr(i32)]
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
pub enum UncheckedAdvice {
    /// `MADV_DONTNEED`: drop the pages; private and anonymous ones read as
    /// zeros (or the file) afterwards.
    DontNeed = 4,
    /// `MADV_FREE` (Linux 4.5): the kernel may free the pages lazily.
    Free = 8,
    /// `MADV_REMOVE`: free the pages and punch a hole in the backing file.
    Remove = 9,
}

/// Advice in native terms: safe, or the one memmap2 calls safe that xmmap
/// counts as unchecked.
enum NativeAdvice {
    Safe(crate::Advice),
    Poison,
}

impl Advice {
    fn native(self) -> NativeAdvice {
        use crate::Advice as A;
        NativeAdvice::Safe(match self {
            Advice::Normal => A::Normal,
            Advice::Random => A::Random,
            Advice::Sequential => A::Sequential,
            Advice::WillNeed => A::WillNeed,
            Advice::DontFork => A::DontFork,
            Advice::DoFork => A::DoFork,
            Advice::Mergeable => A::Mergeable,
            Advice::Unmergeable => A::Unmergeable,
            Advice::HugePage => A::HugePage,
            Advice::NoHugePage => A::NoHugePage,
            Advice::DontDump => A::DontDump,
            Advice::DoDump => A::DoDump,
            Advice::PopulateRead => A::PopulateRead,
            Advice::PopulateWrite => A::PopulateWrite,
            Advice::HwPoison => return NativeAdvice::Poison,
        })
    }

    /// Whether the running kernel knows this advice (`madvise` of an empty
    /// range at address 0, which only checks the advice).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(xmmap::compat::memmap2::Advice::Normal.is_supported());
    /// ```
    pub fn is_supported(self) -> bool {
        crate::map::advice_known(match self.native() {
            NativeAdvice::Safe(advice) => advice.madv(),
            NativeAdvice::Poison => crate::UncheckedAdvice::HwPoison.madv(),
        })
    }
}

impl UncheckedAdvice {
    fn native(self) -> crate::UncheckedAdvice {
        match self {
            UncheckedAdvice::DontNeed => crate::UncheckedAdvice::DontNeed,
            UncheckedAdvice::Free => crate::UncheckedAdvice::Free,
            UncheckedAdvice::Remove => crate::UncheckedAdvice::Remove,
        }
    }

    /// Whether the running kernel knows this advice; see
    /// [`Advice::is_supported`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(xmmap::compat::memmap2::UncheckedAdvice::DontNeed.is_supported());
    /// ```
    pub fn is_supported(self) -> bool {
        crate::map::advice_known(self.native().madv())
    }
}

// ---------------------------------------------------------------------------
// Options

/// A builder for memory maps, with memmap2's setters: collects the options,
/// then a constructor (`map`, `map_mut`, `map_anon`, ...) makes the map.
///
/// # Safety of the file constructors
///
/// A `&[u8]` or `&mut [u8]` into a file mapping is only sound while nobody
/// (this process or another) modifies or truncates the mapped part of the
/// file; the constructors that hand out such slices are `unsafe`, and their
/// caller promises it. [`map_raw`](Self::map_raw) and
/// [`map_raw_read_only`](Self::map_raw_read_only) hand out only pointers and
/// are safe. [`map_if_safe`](Self::map_if_safe) checks that the kernel
/// forbids changes (a sealed memfd, an fs-verity file) and is safe too.
///
/// # Examples
///
/// ```
/// use xmmap::compat::memmap2::MmapOptions;
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2opts", std::process::id()));
/// # std::fs::write(&path, b"0123456789")?;
/// let file = std::fs::File::open(&path)?;
/// // SAFETY: the file is not modified while the map lives.
/// let map = unsafe { MmapOptions::new().offset(3).len(4).map(&file)? };
/// assert_eq!(&map[..], b"3456");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MmapOptions {
    offset: u64,
    len: Option<usize>,
    huge: Option<u8>,
    stack: bool,
    populate: bool,
    no_reserve_swap: bool,
    no_probe_handle: bool,
}

impl MmapOptions {
    /// Options for a map of the whole file from offset 0 (or, for
    /// [`map_anon`](Self::map_anon), of no bytes).
    ///
    /// # Examples
    ///
    /// See [`MmapOptions`].
    pub fn new() -> MmapOptions {
        MmapOptions::default()
    }

    /// The file offset of the first byte; any byte, not only a page
    /// boundary. Ignored by [`map_anon`](Self::map_anon).
    ///
    /// # Examples
    ///
    /// See [`MmapOptions`].
    pub fn offset(&mut self, offset: u64) -> &mut Self {
        self.offset = offset;
        self
    }

    /// The number of bytes to map. Without it a file map runs from the
    /// offset to the end of the file, and an anonymous map is empty. A
    /// length past the end of the file is allowed; touching a page wholly
    /// past the end raises `SIGBUS`.
    ///
    /// # Examples
    ///
    /// See [`MmapOptions`].
    pub fn len(&mut self, len: usize) -> &mut Self {
        self.len = Some(len);
        self
    }

    /// `MAP_STACK` for anonymous maps: the map is a thread stack. No effect
    /// on file maps.
    ///
    /// # Examples
    ///
    /// ```
    /// let stack = xmmap::compat::memmap2::MmapOptions::new().stack().len(1 << 16).map_anon()?;
    /// assert_eq!(stack.len(), 1 << 16);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stack(&mut self) -> &mut Self {
        self.stack = true;
        self
    }

    /// `MAP_HUGETLB` for anonymous maps: huge pages of `2^page_bits` bytes
    /// (`None`: the kernel's default huge page size). The length should be
    /// a multiple of the huge page size. No effect on file maps.
    ///
    /// # Examples
    ///
    /// ```
    /// use xmmap::compat::memmap2::MmapOptions;
    ///
    /// // Fails unless huge pages are reserved (/proc/sys/vm/nr_hugepages).
    /// let _maybe = MmapOptions::new().huge(Some(21)).len(2 << 20).map_anon();
    /// ```
    pub fn huge(&mut self, page_bits: Option<u8>) -> &mut Self {
        self.huge = Some(page_bits.unwrap_or(0));
        self
    }

    /// `MAP_POPULATE`: fault the map in (read ahead, for a file) before the
    /// constructor returns.
    ///
    /// # Examples
    ///
    /// ```
    /// match xmmap::compat::memmap2::MmapOptions::new().populate().len(4096).map_anon() {
    ///     Ok(map) => assert_eq!(map[4095], 0),
    ///     // No MAP_POPULATE on macOS and FreeBSD.
    ///     Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::Unsupported),
    /// }
    /// ```
    pub fn populate(&mut self) -> &mut Self {
        self.populate = true;
        self
    }

    /// `MAP_NORESERVE`: reserve no swap space for the map (ignored by Linux
    /// when `vm.overcommit_memory` is 2).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = xmmap::compat::memmap2::MmapOptions::new()
    ///     .no_reserve_swap()
    ///     .len(1 << 20)
    ///     .map_anon()?;
    /// assert_eq!(map.len(), 1 << 20);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn no_reserve_swap(&mut self) -> &mut Self {
        self.no_reserve_swap = true;
        self
    }

    /// A Windows option of memmap2 (map with exactly the protection asked
    /// for, no probing of the handle); no effect on Unix, where a map's
    /// protection can always be changed later within what the descriptor
    /// allows.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = xmmap::compat::memmap2::MmapOptions::new().no_probe_handle().len(8).map_anon()?;
    /// assert_eq!(map.len(), 8);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn no_probe_handle(&mut self) -> &mut Self {
        self.no_probe_handle = true;
        self
    }

    /// The length to map, computed as memmap2 does: the one given, or the
    /// file's size from the offset on.
    fn len_for(&self, file: &File) -> io::Result<usize> {
        let len = match self.len {
            Some(len) => len as u64,
            None => {
                let size = crate::sys::fstat(file)?.size;
                if size < self.offset {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "cannot map from offset {}: the file has only {size} bytes",
                            self.offset
                        ),
                    ));
                }
                size - self.offset
            }
        };
        slice_len(len)
    }

    /// Makes a file map with `make`, giving it the native options; returns
    /// whether the map is a placeholder for zero bytes.
    fn map_file<X: Bytes>(
        &self,
        desc: MmapRawDescriptor,
        make: impl Fn(&MapOptions, &File) -> crate::Result<X>,
    ) -> io::Result<(X, bool)> {
        let file = desc.file()?;
        let native = |len: Option<usize>| {
            let mut o = MapOptions::new();
            o.offset(self.offset).populate(self.populate).no_reserve(self.no_reserve_swap);
            if let Some(len) = len {
                o.len(len);
            }
            o
        };
        if self.len.is_none() {
            // The native constructor measures the file itself, saving an
            // fstat; an empty map or an error takes memmap2's way below,
            // which tells the cases apart as memmap2 does.
            if let Ok(map) = make(&native(None), &file) {
                if map.bytes() != 0 {
                    return Ok((map, false));
                }
            }
        }
        let len = self.len_for(&file)?;
        let map = make(&native(Some(len.max(1))), &file).map_err(io_error)?;
        Ok((map, len == 0))
    }

    /// Maps `file` read-only and shared (`PROT_READ`, `MAP_SHARED`).
    ///
    /// # Safety
    ///
    /// - Nobody may modify or truncate the mapped part of the file while the
    ///   map lives (see [`MmapOptions`]).
    ///
    /// # Errors
    ///
    /// `InvalidData` for an offset past the end of the file without a
    /// length, or a length over `isize::MAX`; otherwise the kernel's refusal
    /// and xmmap's checks (see the [module docs](self)), as [`io::Error`]s.
    ///
    /// # Examples
    ///
    /// See [`MmapOptions`].
    pub unsafe fn map<T: MmapAsRawDesc>(&self, file: T) -> io::Result<Mmap> {
        let (map, placeholder) = self.map_file(file.as_raw_desc(), |o, f| {
            // SAFETY: passed on to the caller.
            unsafe { o.map(f) }
        })?;
        Ok(Mmap { map, placeholder })
    }

    /// Maps `file` readable and executable, shared (`PROT_READ | PROT_EXEC`).
    ///
    /// # Safety
    ///
    /// - As [`map`](Self::map); executing the bytes has requirements of its
    ///   own that the caller meets.
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map); a file on a `noexec` mount is
    /// `PermissionDenied`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2exec", std::process::id()));
    /// # std::fs::write(&path, [0xc3u8])?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: the file is not modified while the map lives.
    /// let code = unsafe { xmmap::compat::memmap2::MmapOptions::new().map_exec(&file)? };
    /// assert_eq!(code.len(), 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn map_exec<T: MmapAsRawDesc>(&self, file: T) -> io::Result<Mmap> {
        let (map, placeholder) = self.map_file(file.as_raw_desc(), |o, f| {
            // SAFETY: passed on to the caller.
            unsafe { o.map_exec(f) }
        })?;
        Ok(Mmap { map, placeholder })
    }

    /// Maps `file` readable, writable and shared: writes reach the file
    /// (see [`MmapMut::flush`]). The descriptor must be open for reading and
    /// writing.
    ///
    /// # Safety
    ///
    /// - As [`map`](Self::map).
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map); a descriptor not open for writing is
    /// `PermissionDenied`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2mut", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// // SAFETY: only this map touches the file.
    /// let mut map = unsafe { xmmap::compat::memmap2::MmapOptions::new().map_mut(&file)? };
    /// map[0] = b'j';
    /// map.flush()?;
    /// assert_eq!(std::fs::read(&path)?, b"jello");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn map_mut<T: MmapAsRawDesc>(&self, file: T) -> io::Result<MmapMut> {
        let (map, placeholder) = self.map_file(file.as_raw_desc(), |o, f| {
            // SAFETY: passed on to the caller.
            unsafe { o.map_mut(f) }
        })?;
        Ok(MmapMut { map, placeholder })
    }

    /// Maps `file` copy-on-write (`MAP_PRIVATE`, readable and writable):
    /// writes stay in this map and never reach the file or other maps. A
    /// read-only descriptor is enough.
    ///
    /// # Safety
    ///
    /// - As [`map`](Self::map): pages not yet written still read the file.
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2copy", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: the file is not modified while the map lives.
    /// let mut map = unsafe { xmmap::compat::memmap2::MmapOptions::new().map_copy(&file)? };
    /// map[0] = b'j';
    /// assert_eq!(&map[..], b"jello");
    /// assert_eq!(std::fs::read(&path)?, b"hello");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn map_copy<T: MmapAsRawDesc>(&self, file: T) -> io::Result<MmapMut> {
        let (map, placeholder) = self.map_file(file.as_raw_desc(), |o, f| {
            // SAFETY: passed on to the caller.
            unsafe { o.map_copy(f) }
        })?;
        Ok(MmapMut { map, placeholder })
    }

    /// Maps `file` read-only and private: like [`map`](Self::map), but
    /// [`Mmap::make_mut`] then gives a copy-on-write map.
    ///
    /// # Safety
    ///
    /// - As [`map`](Self::map).
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2cro", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: the file is not modified while the map lives.
    /// let map = unsafe { xmmap::compat::memmap2::MmapOptions::new().map_copy_read_only(&file)? };
    /// let mut copy = map.make_mut()?;
    /// copy[0] = b'c';
    /// assert_eq!(std::fs::read(&path)?, b"hello");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn map_copy_read_only<T: MmapAsRawDesc>(&self, file: T) -> io::Result<Mmap> {
        let (map, placeholder) = self.map_file(file.as_raw_desc(), |o, f| {
            // SAFETY: passed on to the caller.
            unsafe { o.map_copy_read_only(f) }
        })?;
        Ok(Mmap { map, placeholder })
    }

    /// A private anonymous map of [`len`](Self::len) zeroed bytes (none if
    /// no length was set), with [`stack`](Self::stack),
    /// [`huge`](Self::huge), [`populate`](Self::populate) and
    /// [`no_reserve_swap`](Self::no_reserve_swap) applied.
    ///
    /// # Errors
    ///
    /// `InvalidData` for a length over `isize::MAX`; otherwise the kernel's
    /// refusal and xmmap's checks.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = xmmap::compat::memmap2::MmapOptions::new().len(4096).map_anon()?;
    /// buf[..5].copy_from_slice(b"hello");
    /// assert_eq!(&buf[..6], b"hello\0");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn map_anon(&self) -> io::Result<MmapMut> {
        let len = slice_len(self.len.unwrap_or(0) as u64)?;
        let mut native = MapOptions::new();
        native
            .len(len.max(1))
            .stack(self.stack)
            .populate(self.populate)
            .no_reserve(self.no_reserve_swap);
        if let Some(bits) = self.huge {
            // memmap2 encodes "the default size" as 0 bits.
            native.huge(if bits == 0 { None } else { Some(bits) });
        }
        let map = native.map_anon().map_err(io_error)?;
        Ok(MmapMut { map, placeholder: len == 0 })
    }

    /// Maps `file` readable and writable, shared, handing out only raw
    /// pointers. The descriptor must be open for reading and writing.
    ///
    /// # Errors
    ///
    /// As [`map_mut`](Self::map_mut).
    ///
    /// # Examples
    ///
    /// See [`MmapRaw`].
    pub fn map_raw<T: MmapAsRawDesc>(&self, file: T) -> io::Result<MmapRaw> {
        let (map, placeholder) = self.map_file(file.as_raw_desc(), |o, f| {
            // SAFETY: the `&mut [u8]` face is turned at once into a face that
            // hands out no references, so nothing relies on the file staying
            // as it is.
            unsafe { o.map_mut(f) }
        })?;
        Ok(MmapRaw { raw: MapRaw::from_inner(map.into_inner()), placeholder })
    }

    /// Maps `file` read-only and shared, handing out only raw pointers.
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// See [`MmapAsRawDesc`].
    pub fn map_raw_read_only<T: MmapAsRawDesc>(&self, file: T) -> io::Result<MmapRaw> {
        let (raw, placeholder) =
            self.map_file(file.as_raw_desc(), |o, f| o.map_raw_read_only(f))?;
        Ok(MmapRaw { raw, placeholder })
    }
}

// ---------------------------------------------------------------------------
// The map types

/// A read-only memory map: `Deref<Target = [u8]>`, so `len`, `as_ptr`,
/// `is_empty` and every other slice method work on it. Dropping it unmaps
/// it; it outlives the file it came from.
///
/// # Examples
///
/// ```
/// use xmmap::compat::memmap2::Mmap;
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2mmap", std::process::id()));
/// # std::fs::write(&path, b"abc")?;
/// let file = std::fs::File::open(&path)?;
/// // SAFETY: the file is not modified while the map lives.
/// let map = unsafe { Mmap::map(&file)? };
/// drop(file);
/// assert_eq!(&map[..], b"abc");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Mmap {
    map: Map,
    placeholder: bool,
}

/// A writable memory map: `DerefMut<Target = [u8]>`. Shared file maps carry
/// writes to the file ([`flush`](Self::flush) waits for them); copy-on-write
/// and anonymous maps keep them in memory.
///
/// # Examples
///
/// ```
/// let mut map = xmmap::compat::memmap2::MmapMut::map_anon(4096)?;
/// map[7] = 42;
/// assert_eq!(map[7], 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct MmapMut {
    map: MapMut,
    placeholder: bool,
}

/// A memory map that hands out raw pointers, never references, so making
/// it is safe even when others change the file. Reading or writing through
/// the pointers is the caller's business.
///
/// # Examples
///
/// ```
/// use xmmap::compat::memmap2::MmapRaw;
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2raw", std::process::id()));
/// # std::fs::write(&path, b"hello")?;
/// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
/// let raw = MmapRaw::map_raw(&file)?;
/// // SAFETY: the map is 5 bytes, writable, and nobody else touches the file.
/// unsafe { raw.as_mut_ptr().write(b'j') };
/// raw.flush()?;
/// assert_eq!(std::fs::read(&path)?, b"jello");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct MmapRaw {
    raw: MapRaw,
    placeholder: bool,
}

/// The methods every type shares, each one native call (or the placeholder's
/// answer).
macro_rules! shared {
    ($T:ident, $field:ident) => {
        impl $T {
            /// Bytes shown: none for a placeholder.
            fn shown(&self) -> usize {
                if self.placeholder {
                    0
                } else {
                    self.$field.len()
                }
            }

            /// Gives the kernel [`Advice`] about the whole map (`madvise(2)`).
            ///
            /// # Errors
            ///
            /// The kernel's refusal (an advice it does not know, or one that
            /// does not apply to this map).
            ///
            /// # Examples
            ///
            /// See [`Advice`].
            pub fn advise(&self, advice: Advice) -> io::Result<()> {
                self.advise_range(advice, 0, self.shown())
            }

            /// Gives advice that can change the map's contents about the
            /// whole map.
            ///
            /// # Safety
            ///
            /// - No reference into the map may rely on the contents the
            ///   advice discards (see [`UncheckedAdvice`]).
            ///
            /// # Errors
            ///
            /// As [`advise`](Self::advise).
            ///
            /// # Examples
            ///
            /// See [`UncheckedAdvice`].
            pub unsafe fn unchecked_advise(&self, advice: UncheckedAdvice) -> io::Result<()> {
                // SAFETY: passed on to the caller.
                unsafe { self.unchecked_advise_range(advice, 0, self.shown()) }
            }

            /// Gives the kernel [`Advice`] about `offset..offset + len`.
            ///
            /// # Errors
            ///
            /// `InvalidInput` when the range leaves the map (memmap2 lets
            /// `offset + len` run past the end: see the
            /// [module docs](self)); the kernel's refusal.
            ///
            /// # Examples
            ///
            /// ```
            /// use xmmap::compat::memmap2::{Advice, MmapMut};
            ///
            /// let map = MmapMut::map_anon(8192)?;
            /// map.advise_range(Advice::WillNeed, 4096, 4096)?;
            /// assert!(map.advise_range(Advice::WillNeed, 4096, 8192).is_err());
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub fn advise_range(
                &self,
                advice: Advice,
                offset: usize,
                len: usize,
            ) -> io::Result<()> {
                if self.placeholder {
                    return placeholder_range("advise", offset, len);
                }
                match advice.native() {
                    NativeAdvice::Safe(a) => self.$field.advise_range(a, offset, len),
                    // SAFETY: a poisoned page does not read changed bytes:
                    // touching it raises SIGBUS, so no reference observes
                    // other contents (memmap2 counts it as safe advice).
                    NativeAdvice::Poison => unsafe {
                        self.$field.unchecked_advise_range(
                            crate::UncheckedAdvice::HwPoison,
                            offset,
                            len,
                        )
                    },
                }
                .map_err(io_error)
            }

            /// Gives advice that can change the contents of
            /// `offset..offset + len`.
            ///
            /// # Safety
            ///
            /// - As [`unchecked_advise`](Self::unchecked_advise), for the range.
            ///
            /// # Errors
            ///
            /// As [`advise_range`](Self::advise_range).
            ///
            /// # Examples
            ///
            /// See [`UncheckedAdvice`].
            pub unsafe fn unchecked_advise_range(
                &self,
                advice: UncheckedAdvice,
                offset: usize,
                len: usize,
            ) -> io::Result<()> {
                if self.placeholder {
                    return placeholder_range("advise", offset, len);
                }
                // SAFETY: passed on to the caller.
                unsafe { self.$field.unchecked_advise_range(advice.native(), offset, len) }
                    .map_err(io_error)
            }

            /// Locks the map's pages into memory (`mlock(2)`).
            ///
            /// # Errors
            ///
            /// The kernel's refusal, for example over `RLIMIT_MEMLOCK`
            /// (`OutOfMemory`, with the limit in the message).
            ///
            /// # Examples
            ///
            /// ```
            /// let map = xmmap::compat::memmap2::MmapMut::map_anon(4096)?;
            /// map.lock()?;
            /// map.unlock()?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub fn lock(&self) -> io::Result<()> {
                if self.placeholder {
                    return Ok(());
                }
                self.$field.lock().map_err(io_error)
            }

            /// Unlocks the map's pages (`munlock(2)`).
            ///
            /// # Errors
            ///
            /// The kernel's refusal.
            ///
            /// # Examples
            ///
            /// See [`lock`](Self::lock).
            pub fn unlock(&self) -> io::Result<()> {
                if self.placeholder {
                    return Ok(());
                }
                self.$field.unlock().map_err(io_error)
            }

            /// Resizes the map to `new_len` bytes (`mremap(2)`), in place
            /// unless [`RemapOptions::may_move`] allows a move. An empty map
            /// grows, and a map resized to 0 bytes can grow again.
            ///
            /// # Safety
            ///
            /// - For a file map, touching a page wholly past the end of the
            ///   file raises `SIGBUS`: the caller must not read or write
            ///   bytes the file does not back.
            ///
            /// # Errors
            ///
            /// `InvalidInput` for a length that overflows (see the
            /// [module docs](self)); the kernel's refusal, `OutOfMemory`
            /// when it cannot grow in place without `may_move`;
            /// `Unsupported` on macOS and FreeBSD, which have no `mremap`.
            ///
            /// # Examples
            ///
            /// ```
            /// use xmmap::compat::memmap2::{MmapMut, RemapOptions};
            ///
            /// let mut map = MmapMut::map_anon(4096)?;
            /// map[0] = 9;
            /// // SAFETY: an anonymous map has no file to run past.
            /// match unsafe { map.remap(1 << 20, RemapOptions::new().may_move(true)) } {
            ///     Ok(()) => assert_eq!((map.len(), map[0]), (1 << 20, 9)),
            ///     // No mremap on macOS and FreeBSD: the map is as it was.
            ///     Err(e) => assert_eq!((e.kind(), map.len()), (std::io::ErrorKind::Unsupported, 4096)),
            /// }
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub unsafe fn remap(
                &mut self,
                new_len: usize,
                options: RemapOptions,
            ) -> io::Result<()> {
                // Zero bytes keep a one-byte placeholder, as in memmap2, so
                // that the map can grow again.
                // SAFETY: `&mut self` proves no reference into the map is
                // alive; the SIGBUS duty passes to the caller.
                unsafe { self.$field.remap(new_len.max(1), options) }.map_err(io_error)?;
                self.placeholder = new_len == 0;
                Ok(())
            }
        }

        impl fmt::Debug for $T {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($T))
                    .field("ptr", &self.$field.as_ptr())
                    .field("len", &self.shown())
                    .finish()
            }
        }
    };
}

/// The flushes of the types that can write to a file.
macro_rules! flushes {
    ($T:ident, $field:ident) => {
        impl $T {
            /// Writes the map's changes to the file and waits for them
            /// (`msync(MS_SYNC)`). A no-op for anonymous and copy-on-write
            /// maps.
            ///
            /// # Errors
            ///
            /// The kernel's I/O error.
            ///
            /// # Examples
            ///
            /// See [`MmapOptions::map_mut`].
            pub fn flush(&self) -> io::Result<()> {
                self.flush_range(0, self.shown())
            }

            /// Starts writing the map's changes to the file and returns
            /// (`msync(MS_ASYNC)`).
            ///
            /// # Errors
            ///
            /// The kernel's refusal.
            ///
            /// # Examples
            ///
            /// See [`flush_async_range`](Self::flush_async_range).
            pub fn flush_async(&self) -> io::Result<()> {
                self.flush_async_range(0, self.shown())
            }

            /// Writes the changes in `offset..offset + len` to the file and
            /// waits for them.
            ///
            /// # Errors
            ///
            /// `InvalidInput` when the range leaves the map; the kernel's
            /// I/O error.
            ///
            /// # Examples
            ///
            /// See [`flush_async_range`](Self::flush_async_range).
            pub fn flush_range(&self, offset: usize, len: usize) -> io::Result<()> {
                if self.placeholder {
                    return placeholder_range("flush", offset, len);
                }
                self.$field.flush_range(offset, len).map_err(io_error)
            }

            /// Starts writing the changes in `offset..offset + len` to the
            /// file and returns.
            ///
            /// # Errors
            ///
            /// As [`flush_range`](Self::flush_range).
            ///
            /// # Examples
            ///
            /// ```
            /// let map = xmmap::compat::memmap2::MmapMut::map_anon(100)?;
            /// map.flush_async_range(10, 90)?;
            /// map.flush_range(0, 100)?;
            /// assert!(map.flush_range(10, 91).is_err());
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub fn flush_async_range(&self, offset: usize, len: usize) -> io::Result<()> {
                if self.placeholder {
                    return placeholder_range("flush_async", offset, len);
                }
                self.$field.flush_async_range(offset, len).map_err(io_error)
            }
        }
    };
}

shared!(Mmap, map);
shared!(MmapMut, map);
shared!(MmapRaw, raw);
flushes!(MmapMut, map);
flushes!(MmapRaw, raw);

impl Mmap {
    /// Maps the whole of `file` read-only: `MmapOptions::new().map(file)`.
    ///
    /// # Safety
    ///
    /// - As [`MmapOptions::map`].
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map`].
    ///
    /// # Examples
    ///
    /// See [`Mmap`].
    pub unsafe fn map<T: MmapAsRawDesc>(file: T) -> io::Result<Mmap> {
        // SAFETY: passed on to the caller.
        unsafe { MmapOptions::new().map(file) }
    }

    /// Maps the whole of `file` read-only if the kernel forbids changing
    /// it: `MmapOptions::new().map_if_safe(file)`.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_if_safe`].
    ///
    /// # Examples
    ///
    /// See [`MmapOptions::map_if_safe`].
    pub fn map_if_safe<T: MmapAsRawDesc>(file: T) -> Result<Mmap, MapIfSafeError> {
        MmapOptions::new().map_if_safe(file)
    }

    /// Makes the map writable (`mprotect(PROT_READ | PROT_WRITE)`): a shared
    /// map then writes to the file, a private one copies on write.
    ///
    /// # Errors
    ///
    /// `PermissionDenied` when a shared map's descriptor was opened
    /// read-only.
    ///
    /// # Examples
    ///
    /// See [`MmapOptions::map_copy_read_only`].
    pub fn make_mut(self) -> io::Result<MmapMut> {
        let placeholder = self.placeholder;
        let map = self.map.make_mut().map_err(io_error)?;
        Ok(MmapMut { map, placeholder })
    }
}

impl MmapMut {
    /// Maps the whole of `file` readable and writable:
    /// `MmapOptions::new().map_mut(file)`.
    ///
    /// # Safety
    ///
    /// - As [`MmapOptions::map_mut`].
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_mut`].
    ///
    /// # Examples
    ///
    /// See [`MmapOptions::map_mut`].
    pub unsafe fn map_mut<T: MmapAsRawDesc>(file: T) -> io::Result<MmapMut> {
        // SAFETY: passed on to the caller.
        unsafe { MmapOptions::new().map_mut(file) }
    }

    /// A private anonymous map of `length` zeroed bytes:
    /// `MmapOptions::new().len(length).map_anon()`.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_anon`].
    ///
    /// # Examples
    ///
    /// See [`MmapMut`].
    pub fn map_anon(length: usize) -> io::Result<MmapMut> {
        MmapOptions::new().len(length).map_anon()
    }

    /// Makes the map read-only (`mprotect(PROT_READ)`).
    ///
    /// # Errors
    ///
    /// The kernel's refusal.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map = xmmap::compat::memmap2::MmapMut::map_anon(16)?;
    /// map[0] = 1;
    /// let map = map.make_read_only()?;
    /// assert_eq!(map[0], 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn make_read_only(self) -> io::Result<Mmap> {
        let placeholder = self.placeholder;
        let map = self.map.make_read_only().map_err(io_error)?;
        Ok(Mmap { map, placeholder })
    }

    /// Makes the map readable and executable, no longer writable
    /// (`mprotect(PROT_READ | PROT_EXEC)`): the last step of a JIT.
    ///
    /// # Errors
    ///
    /// The kernel's refusal (SELinux, a `noexec` mount for a file map).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map = xmmap::compat::memmap2::MmapMut::map_anon(16)?;
    /// map[0] = 0xc3; // x86 `ret`
    /// let code = map.make_exec()?;
    /// assert_eq!(code[0], 0xc3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn make_exec(self) -> io::Result<Mmap> {
        let placeholder = self.placeholder;
        let map = self.map.make_exec().map_err(io_error)?;
        Ok(Mmap { map, placeholder })
    }
}

#[allow(clippy::len_without_is_empty)] // memmap2's MmapRaw has no is_empty
impl MmapRaw {
    /// Maps the whole of `file` readable and writable, handing out only
    /// pointers: `MmapOptions::new().map_raw(file)`.
    ///
    /// # Errors
    ///
    /// As [`MmapOptions::map_raw`].
    ///
    /// # Examples
    ///
    /// See [`MmapRaw`].
    pub fn map_raw<T: MmapAsRawDesc>(file: T) -> io::Result<MmapRaw> {
        MmapOptions::new().map_raw(file)
    }

    /// Address of the first byte (exact, even for an unaligned offset).
    ///
    /// # Examples
    ///
    /// See [`MmapRaw`].
    #[inline]
    pub fn as_ptr(&self) -> *const u8 {
        self.raw.as_ptr()
    }

    /// Mutable address of the first byte. Writing through it is sound only
    /// where the map is writable and nobody else accesses the bytes at the
    /// same time.
    ///
    /// # Examples
    ///
    /// See [`MmapRaw`].
    #[inline]
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.raw.as_mut_ptr()
    }

    /// Bytes in the map.
    ///
    /// # Examples
    ///
    /// See [`MmapAsRawDesc`].
    #[inline]
    pub fn len(&self) -> usize {
        self.shown()
    }
}

impl Deref for Mmap {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.map[..self.shown()]
    }
}

impl AsRef<[u8]> for Mmap {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Deref for MmapMut {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.map[..self.shown()]
    }
}

impl DerefMut for MmapMut {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        let shown = self.shown();
        &mut self.map[..shown]
    }
}

impl AsRef<[u8]> for MmapMut {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl AsMut<[u8]> for MmapMut {
    #[inline]
    fn as_mut(&mut self) -> &mut [u8] {
        self
    }
}

// SAFETY: `deref` returns an address inside the mapping, which lives outside
// the `Mmap` value: moving the value does not move it, and every call returns
// the same address and length until `remap` (a `&mut self` method, which
// StableDeref allows) changes them.
#[cfg(feature = "stable_deref_trait")]
unsafe impl stable_deref_trait::StableDeref for Mmap {}

// SAFETY: as for `Mmap`; `deref_mut` returns the same address as `deref`.
#[cfg(feature = "stable_deref_trait")]
unsafe impl stable_deref_trait::StableDeref for MmapMut {}

impl From<Mmap> for MmapRaw {
    /// The same mapping, handing out pointers only.
    fn from(value: Mmap) -> MmapRaw {
        MmapRaw { raw: MapRaw::from_inner(value.map.into_inner()), placeholder: value.placeholder }
    }
}

impl From<MmapMut> for MmapRaw {
    /// The same mapping, handing out pointers only.
    fn from(value: MmapMut) -> MmapRaw {
        MmapRaw { raw: MapRaw::from_inner(value.map.into_inner()), placeholder: value.placeholder }
    }
}

// ---------------------------------------------------------------------------
// To and from the native types

impl From<Mmap> for Map {
    /// The native map, for its guarded `read_at`, residency and the rest; a
    /// placeholder becomes a native empty map.
    fn from(value: Mmap) -> Map {
        if value.placeholder {
            return Map::from_inner(Inner::empty());
        }
        value.map
    }
}

impl From<Map> for Mmap {
    /// A native map under memmap2's names.
    fn from(map: Map) -> Mmap {
        Mmap { map, placeholder: false }
    }
}

impl From<MmapMut> for MapMut {
    /// The native map; a placeholder becomes a native empty map.
    fn from(value: MmapMut) -> MapMut {
        if value.placeholder {
            return MapMut::from_inner(Inner::empty());
        }
        value.map
    }
}

impl From<MapMut> for MmapMut {
    /// A native map under memmap2's names.
    fn from(map: MapMut) -> MmapMut {
        MmapMut { map, placeholder: false }
    }
}

impl From<MmapRaw> for MapRaw {
    /// The native map, for its guarded `read_at`/`write_at`; a placeholder
    /// becomes a native empty map.
    fn from(value: MmapRaw) -> MapRaw {
        if value.placeholder {
            return MapRaw::from_inner(Inner::empty());
        }
        value.raw
    }
}

impl From<MapRaw> for MmapRaw {
    /// A native map under memmap2's names.
    fn from(raw: MapRaw) -> MmapRaw {
        MmapRaw { raw, placeholder: false }
    }
}

// ---------------------------------------------------------------------------
// map_if_safe

/// Why [`MmapOptions::map_if_safe`] made no map: the platform cannot tell,
/// the file is not provably immutable, or the mapping failed.
///
/// Converts into an [`io::Error`] (`Unsupported`, or the reason).
///
/// # Examples
///
/// See [`MmapOptions::map_if_safe`].
pub struct MapIfSafeError {
    reason: SafeErrorReason,
}

#[derive(Debug)]
enum SafeErrorReason {
    NotSupported,
    NotSafe(io::Error),
    MapFailed(io::Error),
}

impl MapIfSafeError {
    fn not_safe_because(message: String) -> MapIfSafeError {
        MapIfSafeError {
            reason: SafeErrorReason::NotSafe(io::Error::new(io::ErrorKind::InvalidInput, message)),
        }
    }

    /// This platform cannot check whether a file is immutable.
    pub fn not_supported(&self) -> bool {
        matches!(self.reason, SafeErrorReason::NotSupported)
    }

    /// The file could change or shrink (not a sealed memfd nor an
    /// fs-verity file), or the range runs past its end.
    pub fn not_safe(&self) -> bool {
        matches!(self.reason, SafeErrorReason::NotSafe(_))
    }

    /// The file is safe to map, but mapping it failed.
    pub fn map_failed(&self) -> bool {
        matches!(self.reason, SafeErrorReason::MapFailed(_))
    }
}

impl std::error::Error for MapIfSafeError {}

impl fmt::Display for MapIfSafeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            SafeErrorReason::NotSupported => {
                f.write_str("map_if_safe: this platform cannot tell whether a file is immutable")
            }
            SafeErrorReason::NotSafe(e) | SafeErrorReason::MapFailed(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl fmt::Debug for MapIfSafeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.reason, f)
    }
}

impl From<MapIfSafeError> for io::Error {
    fn from(value: MapIfSafeError) -> io::Error {
        match value.reason {
            SafeErrorReason::NotSupported => io::ErrorKind::Unsupported.into(),
            SafeErrorReason::NotSafe(e) | SafeErrorReason::MapFailed(e) => e,
        }
    }
}

impl MmapOptions {
    /// Maps `file` read-only and shared, like [`map`](Self::map), but safely:
    /// only when the kernel guarantees that the mapped bytes cannot change
    /// or go away, that is when the file is a memfd sealed against writing
    /// and shrinking (`F_SEAL_WRITE | F_SEAL_SHRINK`) or has fs-verity
    /// enabled, and the range lies within the file.
    ///
    /// # Errors
    ///
    /// A [`MapIfSafeError`]: [`not_safe`](MapIfSafeError::not_safe) when the
    /// file could change or the range runs past its end,
    /// [`map_failed`](MapIfSafeError::map_failed) when the length cannot be
    /// determined or the mapping fails,
    /// [`not_supported`](MapIfSafeError::not_supported) on platforms without
    /// the check.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-m2safe", std::process::id()));
    /// # std::fs::write(&path, b"ordinary file")?;
    /// let file = std::fs::File::open(&path)?;
    /// // An ordinary file can be rewritten by anyone who can open it (and
    /// // macOS and FreeBSD have no seals to ask about at all).
    /// let err = xmmap::compat::memmap2::Mmap::map_if_safe(&file).unwrap_err();
    /// assert!(err.not_safe() || err.not_supported());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn map_if_safe<T: MmapAsRawDesc>(&self, file: T) -> Result<Mmap, MapIfSafeError> {
        let failed = |e| MapIfSafeError { reason: SafeErrorReason::MapFailed(e) };
        let desc = file.as_raw_desc();
        let borrowed = desc.file().map_err(failed)?;
        let len = self.len_for(&borrowed).map_err(failed)?;
        immutable(&borrowed)?;
        let size = crate::sys::fstat(&borrowed).map_err(failed)?.size;
        let end = self.offset.checked_add(len as u64).ok_or_else(|| {
            failed(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("map_if_safe: offset {} + length {len} overflows", self.offset),
            ))
        })?;
        if end > size {
            return Err(MapIfSafeError::not_safe_because(format!(
                "map_if_safe: the range ends at byte {end}, past the end of the file ({size} bytes)"
            )));
        }
        // SAFETY: the kernel forbids writing to and shrinking the file, and
        // the range lies within it, so the bytes cannot change under the map.
        unsafe { self.map(desc.0) }.map_err(failed)
    }
}

use crate::sys::seal::{SHRINK as SEAL_SHRINK, WRITE as SEAL_WRITE};

/// Whether the kernel forbids changing `file`: a memfd sealed against
/// shrinking and writing, or, for other files, fs-verity.
fn immutable(file: &File) -> Result<(), MapIfSafeError> {
    let seals = match crate::sys::get_seals(file) {
        Ok(seals) => Some(seals),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            return Err(MapIfSafeError { reason: SafeErrorReason::NotSupported })
        }
        // Not a file that can be sealed.
        Err(_) => None,
    };
    match seals {
        Some(seals) => {
            let missing: Vec<&str> = [(SEAL_SHRINK, "F_SEAL_SHRINK"), (SEAL_WRITE, "F_SEAL_WRITE")]
                .into_iter()
                .filter(|&(bit, _)| seals & bit == 0)
                .map(|(_, name)| name)
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            Err(MapIfSafeError::not_safe_because(format!(
                "map_if_safe: the memfd can still change: seal it with {} (fcntl F_ADD_SEALS)",
                missing.join(" and ")
            )))
        }
        None if crate::sys::has_verity(file).unwrap_or(false) => Ok(()),
        None => Err(MapIfSafeError::not_safe_because(
            "map_if_safe: the file can change under the map: it is neither a sealed memfd nor a \
             file with fs-verity enabled"
                .to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};

    #[test]
    fn kernel_errors_get_the_kind_memmap2_would_give_and_keep_the_errno() {
        // EPERM, EAGAIN, ENOMEM, EACCES, EFAULT, ENODEV, EINVAL, EOPNOTSUPP.
        for code in [1, 11, 12, 13, 14, 19, 22, 95] {
            let os = io::Error::from_raw_os_error(code);
            // xmmap's own kinds differ for some (EAGAIN is OutOfMemory there).
            let e = io_error(Error::with_source(ErrorKind::OutOfMemory, "mlock", os));
            assert_eq!(e.kind(), io::Error::from_raw_os_error(code).kind(), "errno {code}");
            assert_eq!(e.raw_os_error(), Some(code));
        }
    }

    #[test]
    fn refusals_before_the_call_get_the_kind_of_the_call_they_spare() {
        let e = io_error(Error::new(ErrorKind::NotMappable, "a pipe"));
        assert_eq!(e.raw_os_error(), Some(Errno::NODEV.raw_os_error()));
        let e = io_error(Error::invalid("range"));
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let e = io_error(Error::new(ErrorKind::LimitExceeded { requested: 2, limit: 1 }, "over"));
        assert_eq!(e.kind(), io::ErrorKind::OutOfMemory);
        assert_eq!(e.to_string(), "over");
    }

    #[test]
    fn slice_lengths_stop_at_isize_max_with_memmap2s_kind() {
        assert_eq!(slice_len(isize::MAX as u64).unwrap(), isize::MAX as usize);
        let e = slice_len(isize::MAX as u64 + 1).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(slice_len(u64::MAX).is_err());
    }

    #[test]
    fn a_placeholder_holds_only_the_empty_range_at_zero() {
        assert!(placeholder_range("advise", 0, 0).is_ok());
        for (offset, len) in [(0, 1), (1, 0), (usize::MAX, usize::MAX)] {
            let e = placeholder_range("advise", offset, len).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn advice_discriminants_are_linux_madv_numbers() {
        for (a, n) in [(Advice::Normal, 0), (Advice::DontFork, 10), (Advice::HwPoison, 100)] {
            assert_eq!(a as i32, n);
        }
        assert!(matches!(Advice::HwPoison.native(), NativeAdvice::Poison));
        assert!(matches!(
            Advice::Sequential.native(),
            NativeAdvice::Safe(crate::Advice::Sequential)
        ));
        assert_eq!(UncheckedAdvice::Free.native(), crate::UncheckedAdvice::Free);
    }
}
