//! The faces of a mapping: [`Map`] (read), [`MapMut`] (read and write) and
//! [`MapRaw`] (no references). Each wraps the one owner, [`Inner`], and only
//! decides what a caller may do.

use std::fmt;
use std::ops::{BitOr, Deref, DerefMut};

use super::{Advice, Inner, UncheckedAdvice};
use crate::error::{Error, Result};
use crate::sys::prot;

/// A memory protection: `PROT_NONE` or any OR of read, write and execute.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Protection(u32);

impl Protection {
    /// `PROT_NONE`: no access; any touch faults (guard pages).
    pub const NONE: Protection = Protection(prot::NONE);
    /// `PROT_READ`.
    pub const READ: Protection = Protection(prot::READ);
    /// `PROT_WRITE`.
    pub const WRITE: Protection = Protection(prot::WRITE);
    /// `PROT_EXEC`.
    pub const EXEC: Protection = Protection(prot::EXEC);
    /// `PROT_READ | PROT_WRITE`.
    pub const READ_WRITE: Protection = Protection(prot::READ | prot::WRITE);

    pub(crate) fn from_bits(bits: u32) -> Protection {
        Protection(bits & (prot::READ | prot::WRITE | prot::EXEC))
    }

    /// The `PROT_*` bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set here.
    pub const fn contains(self, other: Protection) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Protection {
    type Output = Protection;
    fn bitor(self, rhs: Protection) -> Protection {
        Protection(self.0 | rhs.0)
    }
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("PROT_NONE");
        }
        let mut sep = "";
        for (bit, name) in
            [(prot::READ, "PROT_READ"), (prot::WRITE, "PROT_WRITE"), (prot::EXEC, "PROT_EXEC")]
        {
            if self.0 & bit != 0 {
                write!(f, "{sep}{name}")?;
                sep = "|";
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Options of a [`remap`](MapMut::remap) (`mremap(2)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemapOptions {
    may_move: bool,
}

impl RemapOptions {
    /// Resize in place only (the default): fail if the range after the map
    /// is taken.
    pub fn new() -> RemapOptions {
        RemapOptions::default()
    }

    /// `MREMAP_MAYMOVE`: the kernel may move the map to grow it.
    pub fn may_move(mut self, on: bool) -> RemapOptions {
        self.may_move = on;
        self
    }
}

/// Methods every face shares; each is one line over [`Inner`].
macro_rules! common {
    ($T:ident) => {
        impl $T {
            pub(crate) fn from_inner(inner: Inner) -> $T {
                $T { inner }
            }

            /// The mapping's owner, for another face to own.
            #[allow(dead_code)] // for compat
            pub(crate) fn into_inner(self) -> Inner {
                self.inner
            }

            #[allow(dead_code)] // for residency and guarded access
            pub(crate) fn inner(&self) -> &Inner {
                &self.inner
            }

            /// Bytes in the map.
            #[inline]
            pub fn len(&self) -> usize {
                self.inner.len()
            }

            /// Whether the map has no bytes.
            #[inline]
            pub fn is_empty(&self) -> bool {
                self.inner.len() == 0
            }

            /// Address of the first byte (exact, even for an unaligned offset).
            #[inline]
            pub fn as_ptr(&self) -> *const u8 {
                self.inner.ptr()
            }

            /// Gives the kernel [`Advice`] about the whole map (`madvise(2)`).
            ///
            /// # Errors
            ///
            /// The kernel's refusal (for example `PopulateWrite` on a
            /// read-only map), naming the advice.
            pub fn advise(&self, advice: Advice) -> Result<()> {
                self.advise_range(advice, 0, self.len())
            }

            /// Gives the kernel [`Advice`] about `offset..offset + len`.
            ///
            /// # Errors
            ///
            /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
            /// if the range overflows or leaves the map; the kernel's refusal.
            pub fn advise_range(&self, advice: Advice, offset: usize, len: usize) -> Result<()> {
                // SAFETY: safe advice never changes what the map reads.
                unsafe { self.inner.advise(advice.madv(), offset, len) }
            }

            /// Gives advice that can change the map's contents.
            ///
            /// # Safety
            ///
            /// - No reference into the map may rely on the contents the
            ///   advice discards (see [`UncheckedAdvice`]).
            ///
            /// # Errors
            ///
            /// As [`advise`](Self::advise).
            pub unsafe fn unchecked_advise(&self, advice: UncheckedAdvice) -> Result<()> {
                // SAFETY: passed on to the caller.
                unsafe { self.unchecked_advise_range(advice, 0, self.len()) }
            }

            /// Gives advice that can change the contents of `offset..offset + len`.
            ///
            /// # Safety
            ///
            /// - As [`unchecked_advise`](Self::unchecked_advise), for the range.
            ///
            /// # Errors
            ///
            /// As [`advise_range`](Self::advise_range).
            pub unsafe fn unchecked_advise_range(
                &self,
                advice: UncheckedAdvice,
                offset: usize,
                len: usize,
            ) -> Result<()> {
                // SAFETY: passed on to the caller.
                unsafe { self.inner.advise(advice.madv(), offset, len) }
            }

            /// Locks the map's pages into memory (`mlock(2)`).
            ///
            /// # Errors
            ///
            /// [`ErrorKind::LockLimit`](crate::ErrorKind::LockLimit) quoting
            /// `RLIMIT_MEMLOCK` when over it.
            pub fn lock(&self) -> Result<()> {
                self.inner.lock(0, self.len())
            }

            /// Locks `offset..offset + len` into memory.
            ///
            /// # Errors
            ///
            /// As [`lock`](Self::lock), plus range errors.
            pub fn lock_range(&self, offset: usize, len: usize) -> Result<()> {
                self.inner.lock(offset, len)
            }

            /// Unlocks the map's pages (`munlock(2)`).
            ///
            /// # Errors
            ///
            /// The kernel's refusal.
            pub fn unlock(&self) -> Result<()> {
                self.inner.unlock(0, self.len())
            }

            /// Unmaps now, reporting the `munmap(2)` error that dropping
            /// would have to ignore.
            ///
            /// # Errors
            ///
            /// The kernel's refusal (`EINVAL`), which means a bug.
            pub fn unmap(self) -> Result<()> {
                self.inner.unmap()
            }

            /// Splits the map in two at `at` bytes; `as_ptr() + at` must be
            /// page aligned (unless `at` is 0 or the length). Dropping one
            /// half unmaps just its pages, leaving a hole.
            ///
            /// # Errors
            ///
            /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
            /// if `at` is past the end or not on a page boundary.
            pub fn split_at(self, at: usize) -> Result<($T, $T)> {
                let (a, b) = self.inner.split_at(at)?;
                Ok(($T { inner: a }, $T { inner: b }))
            }

            /// Resizes the map to `new_len` bytes (`mremap(2)`); a length of
            /// 0 unmaps it and leaves it empty.
            ///
            /// # Safety
            ///
            /// - For a file map, pages past end-of-file raise `SIGBUS` when
            ///   touched: the caller must not touch bytes the file does not
            ///   back (or must use the guarded `read_at`).
            ///
            /// # Errors
            ///
            /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for
            /// a length that overflows or an empty map; the kernel's refusal
            /// (`ENOMEM` when it cannot grow in place without `may_move`).
            pub unsafe fn remap(&mut self, new_len: usize, options: RemapOptions) -> Result<()> {
                // SAFETY: `&mut self` proves no reference into the map is
                // alive; the SIGBUS duty passes to the caller.
                unsafe { self.inner.remap(new_len, options.may_move) }
            }

            /// The page size the map is made of (larger for huge pages).
            pub fn page_size(&self) -> usize {
                self.inner.granule()
            }
        }

        impl fmt::Debug for $T {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($T))
                    .field("ptr", &self.as_ptr())
                    .field("len", &self.len())
                    .finish()
            }
        }
    };
}

/// Methods of the faces that can write back to a file.
macro_rules! flushes {
    ($T:ident) => {
        impl $T {
            /// Writes the map's changes to the file and waits
            /// (`msync(MS_SYNC)`).
            ///
            /// # Errors
            ///
            /// The kernel's I/O error.
            pub fn flush(&self) -> Result<()> {
                self.inner.flush(0, self.len(), true)
            }

            /// Starts writing the map's changes to the file
            /// (`msync(MS_ASYNC)`).
            ///
            /// # Errors
            ///
            /// The kernel's refusal.
            pub fn flush_async(&self) -> Result<()> {
                self.inner.flush(0, self.len(), false)
            }

            /// Writes `offset..offset + len` to the file and waits.
            ///
            /// # Errors
            ///
            /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) if
            /// the range overflows or leaves the map; the kernel's I/O error.
            pub fn flush_range(&self, offset: usize, len: usize) -> Result<()> {
                self.inner.flush(offset, len, true)
            }

            /// Starts writing `offset..offset + len` to the file.
            ///
            /// # Errors
            ///
            /// As [`flush_range`](Self::flush_range).
            pub fn flush_async_range(&self, offset: usize, len: usize) -> Result<()> {
                self.inner.flush(offset, len, false)
            }
        }
    };
}

/// A read-only memory map: `Deref<Target = [u8]>`.
///
/// Made by [`MapOptions::map`](crate::MapOptions::map) and its siblings. The
/// map outlives the `File` it came from; dropping it unmaps it.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-mapty", std::process::id()));
/// # std::fs::write(&path, b"abc")?;
/// let file = std::fs::File::open(&path)?;
/// // SAFETY: the file is not modified while the map lives.
/// let map = unsafe { xmmap::Map::map(&file)? };
/// assert_eq!(&*map, b"abc");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Map {
    inner: Inner,
}

/// A writable memory map: `DerefMut<Target = [u8]>`.
///
/// Shared file maps carry writes to the file ([`flush`](MapMut::flush)
/// waits for them); copy-on-write and anonymous maps keep them in memory.
///
/// # Examples
///
/// ```
/// let mut m = xmmap::MapMut::map_anon(4096)?;
/// m[100] = 7;
/// assert_eq!(m[100], 7);
/// # Ok::<(), xmmap::Error>(())
/// ```
pub struct MapMut {
    inner: Inner,
}

/// A memory map that hands out no references, only raw pointers and
/// guarded copies: the safe way to map a file that others may change or
/// truncate.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-rawty", std::process::id()));
/// # std::fs::write(&path, b"abc")?;
/// let file = std::fs::File::open(&path)?;
/// let raw = xmmap::MapRaw::map_read_only(&file)?;
/// assert_eq!(raw.len(), 3);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MapRaw {
    inner: Inner,
}

common!(Map);
common!(MapMut);
common!(MapRaw);
flushes!(MapMut);
flushes!(MapRaw);

impl Map {
    /// Maps the whole of `file` read-only and shared: shorthand for
    /// `MapOptions::new().map(file)`.
    ///
    /// # Safety
    ///
    /// - As [`MapOptions::map`](crate::MapOptions::map).
    ///
    /// # Errors
    ///
    /// As [`MapOptions::map`](crate::MapOptions::map).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-mapmap", std::process::id()));
    /// # std::fs::write(&path, b"whole file")?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: the file is not modified while the map lives.
    /// let map = unsafe { xmmap::Map::map(&file)? };
    /// assert_eq!(&map[..], b"whole file");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::self_named_constructors)] // memmap2's well-known spelling
    pub unsafe fn map(file: &std::fs::File) -> Result<Map> {
        // SAFETY: passed on to the caller.
        unsafe { super::MapOptions::new().map(file) }
    }

    /// Makes the map writable (`mprotect(PROT_READ | PROT_WRITE)`): shared
    /// maps then write to the file, private ones copy on write.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::PermissionDenied`](crate::ErrorKind::PermissionDenied)
    /// when a shared map's file was opened read-only.
    pub fn make_mut(self) -> Result<MapMut> {
        // SAFETY: `self` is consumed, so no reference relies on the old
        // protection; adding write access removes nothing.
        unsafe { self.inner.protect(prot::READ | prot::WRITE)? };
        Ok(MapMut { inner: self.inner })
    }

    /// Makes the map executable (`mprotect(PROT_READ | PROT_EXEC)`).
    ///
    /// # Errors
    ///
    /// The kernel's refusal (a `noexec` mount).
    pub fn make_exec(self) -> Result<Map> {
        // SAFETY: read access is kept; executing is the caller's business.
        unsafe { self.inner.protect(prot::READ | prot::EXEC)? };
        Ok(self)
    }

    /// Removes all access (`mprotect(PROT_NONE)`), as for guard pages: the
    /// result hands out no references, and touching it faults.
    ///
    /// # Errors
    ///
    /// The kernel's refusal.
    pub fn make_none(self) -> Result<MapRaw> {
        // SAFETY: `self` is consumed, so no reference into the map is alive.
        unsafe { self.inner.protect(prot::NONE)? };
        Ok(MapRaw { inner: self.inner })
    }
}

impl MapMut {
    /// Maps the whole of `file` readable, writable and shared: shorthand for
    /// `MapOptions::new().map_mut(file)`.
    ///
    /// # Safety
    ///
    /// - As [`MapOptions::map_mut`](crate::MapOptions::map_mut).
    ///
    /// # Errors
    ///
    /// As [`MapOptions::map_mut`](crate::MapOptions::map_mut).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-mapmutmap", std::process::id()));
    /// # std::fs::write(&path, b"abc")?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// // SAFETY: only this map touches the file.
    /// let mut map = unsafe { xmmap::MapMut::map_mut(&file)? };
    /// map[2] = b'C';
    /// map.flush()?;
    /// assert_eq!(std::fs::read(&path)?, b"abC");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::self_named_constructors)] // memmap2's well-known spelling
    pub unsafe fn map_mut(file: &std::fs::File) -> Result<MapMut> {
        // SAFETY: passed on to the caller.
        unsafe { super::MapOptions::new().map_mut(file) }
    }

    /// A private anonymous map of `len` zeroed bytes.
    ///
    /// # Errors
    ///
    /// As [`MapOptions::map_anon`](crate::MapOptions::map_anon).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = xmmap::MapMut::map_anon(10)?;
    /// m.copy_from_slice(b"0123456789");
    /// assert_eq!(m.len(), 10);
    /// assert!(xmmap::MapMut::map_anon(0)?.is_empty()); // no system call
    /// # Ok::<(), xmmap::Error>(())
    /// ```
    pub fn map_anon(len: usize) -> Result<MapMut> {
        super::MapOptions::new().len(len).map_anon()
    }

    /// Makes the map read-only (`mprotect(PROT_READ)`).
    ///
    /// # Errors
    ///
    /// The kernel's refusal.
    pub fn make_read_only(self) -> Result<Map> {
        // SAFETY: `self` is consumed, so no `&mut` into the map is alive.
        unsafe { self.inner.protect(prot::READ)? };
        Ok(Map { inner: self.inner })
    }

    /// Makes the map executable and read-only (`mprotect(PROT_READ |
    /// PROT_EXEC)`): the usual last step of a JIT.
    ///
    /// # Errors
    ///
    /// The kernel's refusal (a `noexec` mount).
    pub fn make_exec(self) -> Result<Map> {
        // SAFETY: `self` is consumed, so no `&mut` into the map is alive.
        unsafe { self.inner.protect(prot::READ | prot::EXEC)? };
        Ok(Map { inner: self.inner })
    }

    /// Makes the map writable and executable at once.
    ///
    /// # Safety
    ///
    /// - W+X memory lets a memory-safety bug anywhere in the process become
    ///   code execution; the caller accepts that, and must synchronise
    ///   instruction caches where the architecture needs it.
    ///
    /// # Errors
    ///
    /// The kernel's refusal (SELinux `execmem`, a `noexec` mount).
    pub unsafe fn make_exec_mut(self) -> Result<MapMut> {
        // SAFETY: `self` is consumed; W+X is the caller's stated choice.
        unsafe { self.inner.protect(prot::READ | prot::WRITE | prot::EXEC)? };
        Ok(self)
    }

    /// Removes all access (`mprotect(PROT_NONE)`); see [`Map::make_none`].
    ///
    /// # Errors
    ///
    /// The kernel's refusal.
    pub fn make_none(self) -> Result<MapRaw> {
        // SAFETY: `self` is consumed, so no reference into the map is alive.
        unsafe { self.inner.protect(prot::NONE)? };
        Ok(MapRaw { inner: self.inner })
    }

    /// Mutable address of the first byte.
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.inner.ptr()
    }
}

impl MapRaw {
    /// Maps the whole of `file` shared, writable if the descriptor allows:
    /// shorthand for `MapOptions::new().map_raw(file)`.
    ///
    /// # Errors
    ///
    /// As [`MapOptions::map_raw`](crate::MapOptions::map_raw).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-rawmap", std::process::id()));
    /// # std::fs::write(&path, b"abc")?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// let raw = xmmap::MapRaw::map(&file)?; // writable: the descriptor allows it
    /// // SAFETY: in bounds, and nobody else touches the file.
    /// unsafe { *raw.as_mut_ptr() = b'X' };
    /// raw.flush()?;
    /// assert_eq!(std::fs::read(&path)?, b"Xbc");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map(file: &std::fs::File) -> Result<MapRaw> {
        super::MapOptions::new().map_raw(file)
    }

    /// Maps the whole of `file` shared and read-only.
    ///
    /// # Errors
    ///
    /// As [`MapOptions::map_raw`](crate::MapOptions::map_raw).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-rawro", std::process::id()));
    /// # std::fs::write(&path, b"abc")?;
    /// let raw = xmmap::MapRaw::map_read_only(&std::fs::File::open(&path)?)?;
    /// // SAFETY: in bounds, and nobody truncates the file meanwhile.
    /// assert_eq!(unsafe { *raw.as_ptr().add(1) }, b'b');
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_read_only(file: &std::fs::File) -> Result<MapRaw> {
        super::MapOptions::new().map_raw_read_only(file)
    }

    /// Mutable address of the first byte. Writing through it is sound only
    /// where the protection allows and no one else writes concurrently.
    #[inline]
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.inner.ptr()
    }

    /// Changes the protection (`mprotect(2)`). A raw map hands out no
    /// references, so any change is safe except making it writable and
    /// executable at once.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for W+X
    /// (use [`unchecked_protect`](Self::unchecked_protect)); the kernel's
    /// refusal.
    pub fn protect(&mut self, protection: Protection) -> Result<()> {
        if protection.contains(Protection::WRITE | Protection::EXEC) {
            return Err(Error::invalid(
                "protect: writable and executable at once needs unchecked_protect",
            ));
        }
        // SAFETY: a raw map hands out no references to invalidate.
        unsafe { self.inner.protect(protection.bits()) }
    }

    /// Changes the protection, allowing W+X.
    ///
    /// # Safety
    ///
    /// - As [`MapMut::make_exec_mut`] when `protection` is W+X.
    ///
    /// # Errors
    ///
    /// The kernel's refusal.
    pub unsafe fn unchecked_protect(&mut self, protection: Protection) -> Result<()> {
        // SAFETY: no references exist; W+X is the caller's stated choice.
        unsafe { self.inner.protect(protection.bits()) }
    }
}

impl Deref for Map {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: the range is mapped readable for the life of `self`; the
        // constructor's caller promised nobody changes the file under it.
        unsafe { std::slice::from_raw_parts(self.inner.ptr(), self.inner.len()) }
    }
}

impl AsRef<[u8]> for Map {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Deref for MapMut {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: as for Map.
        unsafe { std::slice::from_raw_parts(self.inner.ptr(), self.inner.len()) }
    }
}

impl DerefMut for MapMut {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: mapped read-write for the life of `self`, and `&mut self`
        // makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.inner.ptr(), self.inner.len()) }
    }
}

impl AsRef<[u8]> for MapMut {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl AsMut<[u8]> for MapMut {
    fn as_mut(&mut self) -> &mut [u8] {
        self
    }
}
