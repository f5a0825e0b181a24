//! [`MapOptions`]: every argument and flag of `mmap(2)`, as data.
//!
//! The builder collects options; the constructors check the descriptor,
//! gather the system's facts ([`Env`]), let the pure planner
//! ([`plan_call`], in `plan.rs`) turn it all into the system call's
//! arguments, call `mmap`, and leave what a failure means to `errors.rs`.

use std::fs::File;

use super::errors::mmap_error;
use super::plan::{plan_call, Call, Env, Share};
use super::{Inner, Map, MapMut, MapRaw};
use crate::error::{Error, ErrorKind, Result};
use crate::limit::Limit;
use crate::sys::{self, prot, Errno, FileKind, FsKind};

/// A builder for every kind of memory map, with every knob of `mmap(2)`.
///
/// Setters take `&mut self` and return `&mut Self`; a constructor (`map`,
/// `map_mut`, `map_anon`, ...) then makes the mapping.
///
/// | `mmap(2)`               | here                                        |
/// |-------------------------|---------------------------------------------|
/// | `addr` (hint)           | [`hint`](Self::hint)                         |
/// | `addr` + `MAP_FIXED`    | [`map_anon_at`](Self::map_anon_at), [`map_at`](Self::map_at), ... (`unsafe`) |
/// | `MAP_FIXED_NOREPLACE`   | [`fixed_noreplace`](Self::fixed_noreplace)   |
/// | `length`                | [`len`](Self::len) (default: to end of file) |
/// | `offset`                | [`offset`](Self::offset) (any byte)          |
/// | `PROT_*`                | the constructor; later `make_*`              |
/// | `MAP_SHARED`/`PRIVATE`  | the constructor                              |
/// | `MAP_SHARED_VALIDATE`   | [`validate`](Self::validate)                 |
/// | `MAP_ANONYMOUS`         | [`map_anon`](Self::map_anon), [`map_anon_shared`](Self::map_anon_shared) |
/// | `MAP_32BIT`             | [`low_32bit`](Self::low_32bit)               |
/// | `MAP_GROWSDOWN`         | [`grows_down`](Self::grows_down)             |
/// | `MAP_HUGETLB`, `MAP_HUGE_*` | [`huge`](Self::huge)                     |
/// | `MAP_LOCKED`            | [`locked`](Self::locked)                     |
/// | `MAP_NONBLOCK`          | [`nonblock`](Self::nonblock)                 |
/// | `MAP_NORESERVE`         | [`no_reserve`](Self::no_reserve) (with `huge`: `MapRaw` or `unchecked_map_anon`) |
/// | `MAP_POPULATE`          | [`populate`](Self::populate)                 |
/// | `MAP_STACK`             | [`stack`](Self::stack)                       |
/// | `MAP_SYNC`              | [`sync`](Self::sync)                         |
/// | `MAP_UNINITIALIZED`     | [`uninitialized`](Self::uninitialized) with the `unsafe` [`unchecked_map_anon`](Self::unchecked_map_anon) |
/// | `MAP_DENYWRITE`, `MAP_EXECUTABLE`, `MAP_FILE` | not offered: Linux ignores them (mmap(2): "This flag is ignored") |
///
/// Two rules of git's `xmmap()` apply to every constructor: the bytes to be
/// mapped are checked against a [`Limit`] before the system call (by default
/// the one in `XMMAP_LIMIT`), and a zero length gives an empty map without
/// calling the kernel (which would refuse it with `EINVAL`).
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use xmmap::MapOptions;
///
/// let mut file = tempfile_for_doc()?;
/// file.write_all(b"hello, mapped world")?;
///
/// // Any byte offset: the kernel maps from the page below it.
/// // SAFETY: nobody else changes this file while the map lives.
/// let map = unsafe { MapOptions::new().offset(7).len(6).map(&file)? };
/// assert_eq!(&map[..], b"mapped");
/// # fn tempfile_for_doc() -> std::io::Result<std::fs::File> {
/// #     let p = std::env::temp_dir().join(format!("xmmap-doc-{}-opts", std::process::id()));
/// #     let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&p)?;
/// #     std::fs::remove_file(&p)?;
/// #     Ok(f)
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    pub(crate) offset: u64,
    pub(crate) len: Option<usize>,
    pub(crate) hint: usize,
    pub(crate) fixed_noreplace: bool,
    pub(crate) populate: bool,
    pub(crate) huge: Option<Option<u8>>,
    pub(crate) no_reserve: bool,
    pub(crate) locked: bool,
    pub(crate) stack: bool,
    pub(crate) grows_down: bool,
    pub(crate) sync: bool,
    pub(crate) validate: bool,
    pub(crate) low_32bit: bool,
    pub(crate) nonblock: bool,
    pub(crate) uninitialized: bool,
    pub(crate) extra_flags: u32,
    pub(crate) limit: Option<Limit>,
}

impl MapOptions {
    /// Options for a map of the whole file (or nothing, for anonymous maps),
    /// at an address the kernel picks, with the limit from `XMMAP_LIMIT`.
    pub fn new() -> MapOptions {
        MapOptions::default()
    }

    /// The file offset of the first byte. Any byte offset works: the kernel
    /// maps from the page below it and the map starts at the exact byte.
    /// Offsets above 4 GiB work. File maps only.
    pub fn offset(&mut self, offset: u64) -> &mut Self {
        self.offset = offset;
        self
    }

    /// The number of bytes to map. Default: from the offset to the end of
    /// the file (an offset equal to the file's length gives an empty map).
    /// A length past end-of-file is allowed, as in `mmap(2)`: the partial
    /// page after the end reads as zeros, and touching a page wholly past
    /// the end raises `SIGBUS` (use the guarded `read_at` to get an error
    /// instead).
    pub fn len(&mut self, len: usize) -> &mut Self {
        self.len = Some(len);
        self
    }

    /// A hint for where to place the mapping (`addr` without `MAP_FIXED`):
    /// the kernel uses it when that range is free and may place the map
    /// elsewhere otherwise. The address is that of the page holding the
    /// first byte; `0` (the default) lets the kernel choose.
    pub fn hint(&mut self, addr: usize) -> &mut Self {
        self.hint = addr;
        self
    }

    /// `MAP_FIXED_NOREPLACE` (Linux 4.17): place the mapping exactly at the
    /// [`hint`](Self::hint) address, or fail with
    /// [`ErrorKind::AlreadyMapped`] if anything is mapped there.
    pub fn fixed_noreplace(&mut self, on: bool) -> &mut Self {
        self.fixed_noreplace = on;
        self
    }

    /// `MAP_POPULATE`: fault the whole map in (read ahead for file maps)
    /// before returning.
    pub fn populate(&mut self, on: bool) -> &mut Self {
        self.populate = on;
        self
    }

    /// `MAP_HUGETLB`: back the map with huge pages of `2^page_bits` bytes
    /// (`Some(21)` for 2 MiB, `Some(30)` for 1 GiB; `None` for the default
    /// huge page size). Needs a configured pool
    /// (`/proc/sys/vm/nr_hugepages`) for anonymous maps, or a file on
    /// hugetlbfs. The length is rounded up to the huge page size and the
    /// offset must be a multiple of it. Without a pool the constructor fails
    /// with [`ErrorKind::HugePagesUnavailable`].
    pub fn huge(&mut self, page_bits: Option<u8>) -> &mut Self {
        self.huge = Some(page_bits);
        self
    }

    /// `MAP_NORESERVE`: do not reserve swap space for the map.
    ///
    /// With [`huge`](Self::huge) it also reserves no huge pages: `mmap`
    /// succeeds whatever the pool holds, and touching a page the pool cannot
    /// supply raises `SIGBUS`. So the constructors that hand out references
    /// refuse `huge` + `no_reserve` with [`ErrorKind::InvalidInput`]; map
    /// such memory with [`map_raw`](Self::map_raw) (whose guarded access
    /// turns the fault into an error) or the `unsafe`
    /// [`unchecked_map_anon`](Self::unchecked_map_anon).
    pub fn no_reserve(&mut self, on: bool) -> &mut Self {
        self.no_reserve = on;
        self
    }

    /// `MAP_LOCKED`: lock the pages into memory, as `mlock(2)` would. Over
    /// `RLIMIT_MEMLOCK` the constructor fails with [`ErrorKind::LockLimit`]
    /// quoting the limit.
    pub fn locked(&mut self, on: bool) -> &mut Self {
        self.locked = on;
        self
    }

    /// `MAP_STACK`: the map is a thread stack (no transparent huge pages).
    pub fn stack(&mut self, on: bool) -> &mut Self {
        self.stack = on;
        self
    }

    /// `MAP_GROWSDOWN`: a stack-like map that the kernel extends downwards
    /// when the guard page below it is touched. Private anonymous maps only.
    pub fn grows_down(&mut self, on: bool) -> &mut Self {
        self.grows_down = on;
        self
    }

    /// `MAP_SYNC` (with `MAP_SHARED_VALIDATE`): writes through the map are
    /// durable once they reach the CPU cache's persistence domain. Only for
    /// shared file maps on a DAX file system; elsewhere the constructor fails
    /// with [`ErrorKind::Unsupported`].
    pub fn sync(&mut self, on: bool) -> &mut Self {
        self.sync = on;
        self
    }

    /// `MAP_SHARED_VALIDATE` instead of `MAP_SHARED`: the kernel rejects
    /// flags it does not know rather than silently ignoring them. Shared
    /// file maps only.
    pub fn validate(&mut self, on: bool) -> &mut Self {
        self.validate = on;
        self
    }

    /// `MAP_32BIT` (x86_64): place the map in the first 2 GiB of the
    /// address space. Elsewhere the constructor fails with
    /// [`ErrorKind::Unsupported`].
    pub fn low_32bit(&mut self, on: bool) -> &mut Self {
        self.low_32bit = on;
        self
    }

    /// `MAP_NONBLOCK`: with `populate`, do not read ahead. Since Linux
    /// 2.6.23 this makes `MAP_POPULATE` do nothing (mmap(2)).
    pub fn nonblock(&mut self, on: bool) -> &mut Self {
        self.nonblock = on;
        self
    }

    /// `MAP_UNINITIALIZED`: do not clear anonymous pages. Honoured only by
    /// kernels built with `CONFIG_MMAP_ALLOW_UNINITIALIZED` (embedded
    /// systems); ignored elsewhere.
    ///
    /// Only the `unsafe` [`unchecked_map_anon`](Self::unchecked_map_anon)
    /// and [`unchecked_map_anon_shared`](Self::unchecked_map_anon_shared)
    /// take it, so that the promise covers one call: the other constructors
    /// refuse it with [`ErrorKind::InvalidInput`].
    pub fn uninitialized(&mut self, on: bool) -> &mut Self {
        self.uninitialized = on;
        self
    }

    /// Raw `MAP_*` bits ORed into the flags as they are, for flags newer
    /// than this crate. With [`validate`](Self::validate) the kernel rejects
    /// the ones it does not know.
    ///
    /// Bits this crate knows are refused by the constructor with
    /// [`ErrorKind::InvalidInput`] naming the flag: the sharing type
    /// (`MAP_SHARED`, `MAP_PRIVATE`, `MAP_SHARED_VALIDATE`: the constructor
    /// chooses it), `MAP_FIXED` and `MAP_FIXED_NOREPLACE` (use the `*_at`
    /// constructors or [`fixed_noreplace`](Self::fixed_noreplace)), and the
    /// flags that have their own setter (`MAP_ANONYMOUS`, `MAP_HUGETLB`,
    /// `MAP_NORESERVE`, `MAP_UNINITIALIZED`, ...).
    ///
    /// # Safety
    ///
    /// - The bits must not give the mapping semantics the map types do not
    ///   model. This holds for every map made with these options: the bits
    ///   are a property of the flags, not of one mapping.
    pub unsafe fn extra_flags(&mut self, bits: u32) -> &mut Self {
        self.extra_flags = bits;
        self
    }

    /// The limit this map is checked against, instead of `XMMAP_LIMIT`.
    pub fn limit(&mut self, limit: Limit) -> &mut Self {
        self.limit = Some(limit);
        self
    }

    /// Maps `file` readable and shared (`PROT_READ`, `MAP_SHARED`).
    ///
    /// # Safety
    ///
    /// - The returned map hands out `&[u8]`: nobody (this process or another)
    ///   may write to or shrink the mapped part of the file while the map
    ///   lives. Writes are undefined behaviour for the slice; shrinking makes
    ///   access past the new end raise `SIGBUS`. When that cannot be
    ///   promised, use [`map_raw_read_only`](Self::map_raw_read_only) and
    ///   its guarded `read_at`.
    ///
    /// # Errors
    ///
    /// See [`map_raw`](Self::map_raw): bad ranges, unmappable files, the
    /// limit, and the kernel's refusals, each as a typed [`Error`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-map", std::process::id()));
    /// # std::fs::write(&path, b"0123456789")?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: the file is not modified while the map lives.
    /// let map = unsafe { xmmap::MapOptions::new().offset(2).map(&file)? };
    /// drop(file); // a map outlives its descriptor
    /// assert_eq!(&map[..], b"23456789");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map(&self, file: &File) -> Result<Map> {
        self.map_file(file, prot::READ, Share::Shared, Call::SAFE).map(Map::from_inner)
    }

    /// Like [`map`](Self::map), but `MAP_FIXED` at `addr` (the address of
    /// the page holding the first byte), replacing whatever was mapped there.
    ///
    /// # Safety
    ///
    /// - As for [`map`](Self::map), and as for
    ///   [`map_anon_at`](Self::map_anon_at) about the address range.
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map) and [`map_anon_at`](Self::map_anon_at).
    pub unsafe fn map_at(&self, file: &File, addr: usize) -> Result<Map> {
        self.map_file(file, prot::READ, Share::Shared, Call::SAFE.at(addr)).map(Map::from_inner)
    }

    /// Maps `file` readable, writable and shared (`PROT_READ | PROT_WRITE`,
    /// `MAP_SHARED`): writes reach the file (see [`MapMut::flush`]).
    ///
    /// # Safety
    ///
    /// - As for [`map`](Self::map): nobody else may modify or shrink the
    ///   mapped part of the file while the map lives.
    ///
    /// # Errors
    ///
    /// As [`map_raw`](Self::map_raw); a descriptor not opened for both
    /// reading and writing is [`ErrorKind::PermissionDenied`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-mut", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// // SAFETY: only this map touches the file.
    /// let mut map = unsafe { xmmap::MapOptions::new().map_mut(&file)? };
    /// map[0] = b'j';
    /// map.flush()?;
    /// assert_eq!(std::fs::read(&path)?, b"jello");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_mut(&self, file: &File) -> Result<MapMut> {
        self.map_file(file, prot::READ | prot::WRITE, Share::Shared, Call::SAFE)
            .map(MapMut::from_inner)
    }

    /// Like [`map_mut`](Self::map_mut), but `MAP_FIXED` at `addr`,
    /// replacing whatever was mapped there.
    ///
    /// # Safety
    ///
    /// - As for [`map_mut`](Self::map_mut), and as for
    ///   [`map_anon_at`](Self::map_anon_at) about the address range.
    ///
    /// # Errors
    ///
    /// As [`map_mut`](Self::map_mut) and [`map_anon_at`](Self::map_anon_at).
    pub unsafe fn map_mut_at(&self, file: &File, addr: usize) -> Result<MapMut> {
        self.map_file(file, prot::READ | prot::WRITE, Share::Shared, Call::SAFE.at(addr))
            .map(MapMut::from_inner)
    }

    /// Maps `file` copy-on-write (`PROT_READ | PROT_WRITE`, `MAP_PRIVATE`):
    /// writes stay in this process and never reach the file or other maps.
    ///
    /// # Safety
    ///
    /// - As for [`map`](Self::map): pages not yet written still read the
    ///   file, so nobody may modify or shrink it while the map lives.
    ///
    /// # Errors
    ///
    /// As [`map_raw`](Self::map_raw). A read-only descriptor is enough.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-copy", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: the file is not modified while the map lives.
    /// let mut map = unsafe { xmmap::MapOptions::new().map_copy(&file)? };
    /// map[0] = b'j';
    /// assert_eq!(&map[..], b"jello");
    /// assert_eq!(std::fs::read(&path)?, b"hello");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_copy(&self, file: &File) -> Result<MapMut> {
        self.map_file(file, prot::READ | prot::WRITE, Share::Private, Call::SAFE)
            .map(MapMut::from_inner)
    }

    /// Like [`map_copy`](Self::map_copy), but `MAP_FIXED` at `addr` (the
    /// address of the page holding the first byte), replacing whatever was
    /// mapped there.
    ///
    /// # Safety
    ///
    /// - As for [`map_copy`](Self::map_copy), and as for
    ///   [`map_anon_at`](Self::map_anon_at) about the address range.
    ///
    /// # Errors
    ///
    /// As [`map_copy`](Self::map_copy) and [`map_anon_at`](Self::map_anon_at).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-copy-at", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// let spare = xmmap::MapOptions::new().len(xmmap::page_size()).map_anon()?;
    /// let addr = spare.as_ptr() as usize;
    /// std::mem::forget(spare); // its page is handed to the new map
    /// // SAFETY: the page is ours and its old map is never used again; the
    /// // file is not modified while the map lives.
    /// let mut map = unsafe { xmmap::MapOptions::new().map_copy_at(&file, addr)? };
    /// assert_eq!(map.as_ptr() as usize, addr);
    /// map[0] = b'j';
    /// assert_eq!((&map[..], &std::fs::read(&path)?[..]), (&b"jello"[..], &b"hello"[..]));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_copy_at(&self, file: &File, addr: usize) -> Result<MapMut> {
        self.map_file(file, prot::READ | prot::WRITE, Share::Private, Call::SAFE.at(addr))
            .map(MapMut::from_inner)
    }

    /// Maps `file` readable and private (`PROT_READ`, `MAP_PRIVATE`): like
    /// [`map`](Self::map), but [`Map::make_mut`] later gives a copy-on-write
    /// map instead of a shared one.
    ///
    /// # Safety
    ///
    /// - As for [`map`](Self::map).
    ///
    /// # Errors
    ///
    /// As [`map_raw`](Self::map_raw).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-cro", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: the file is not modified while the map lives.
    /// let map = unsafe { xmmap::MapOptions::new().map_copy_read_only(&file)? };
    /// let mut copy = map.make_mut()?; // private: writes stay here
    /// copy[0] = b'c';
    /// assert_eq!(std::fs::read(&path)?, b"hello");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_copy_read_only(&self, file: &File) -> Result<Map> {
        self.map_file(file, prot::READ, Share::Private, Call::SAFE).map(Map::from_inner)
    }

    /// Like [`map_copy_read_only`](Self::map_copy_read_only), but
    /// `MAP_FIXED` at `addr`, replacing whatever was mapped there.
    ///
    /// # Safety
    ///
    /// - As for [`map_copy_read_only`](Self::map_copy_read_only), and as for
    ///   [`map_anon_at`](Self::map_anon_at) about the address range.
    ///
    /// # Errors
    ///
    /// As [`map_copy_read_only`](Self::map_copy_read_only) and
    /// [`map_anon_at`](Self::map_anon_at).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-cro-at", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// let spare = xmmap::MapOptions::new().len(xmmap::page_size()).map_anon()?;
    /// let addr = spare.as_ptr() as usize;
    /// std::mem::forget(spare); // its page is handed to the new map
    /// // SAFETY: the page is ours and its old map is never used again; the
    /// // file is not modified while the map lives.
    /// let map = unsafe { xmmap::MapOptions::new().map_copy_read_only_at(&file, addr)? };
    /// assert_eq!((map.as_ptr() as usize, &map[..]), (addr, &b"hello"[..]));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_copy_read_only_at(&self, file: &File, addr: usize) -> Result<Map> {
        self.map_file(file, prot::READ, Share::Private, Call::SAFE.at(addr)).map(Map::from_inner)
    }

    /// Maps `file` readable and executable (`PROT_READ | PROT_EXEC`,
    /// `MAP_SHARED`), for loading code.
    ///
    /// # Safety
    ///
    /// - As for [`map`](Self::map). Executing the bytes has its own, much
    ///   stronger, requirements that the caller must meet.
    ///
    /// # Errors
    ///
    /// As [`map_raw`](Self::map_raw); a file on a `noexec` mount is
    /// [`ErrorKind::PermissionDenied`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-exec", std::process::id()));
    /// # std::fs::write(&path, [0xc3u8])?; // x86 `ret`
    /// let file = std::fs::File::open(&path)?;
    /// // SAFETY: the file is not modified while the map lives.
    /// let code = unsafe { xmmap::MapOptions::new().map_exec(&file)? };
    /// assert_eq!(code.len(), 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_exec(&self, file: &File) -> Result<Map> {
        self.map_file(file, prot::READ | prot::EXEC, Share::Shared, Call::SAFE).map(Map::from_inner)
    }

    /// Like [`map_exec`](Self::map_exec), but `MAP_FIXED` at `addr`,
    /// replacing whatever was mapped there.
    ///
    /// # Safety
    ///
    /// - As for [`map_exec`](Self::map_exec), and as for
    ///   [`map_anon_at`](Self::map_anon_at) about the address range.
    ///
    /// # Errors
    ///
    /// As [`map_exec`](Self::map_exec) and [`map_anon_at`](Self::map_anon_at).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-exec-at", std::process::id()));
    /// # std::fs::write(&path, [0xc3u8])?;
    /// let file = std::fs::File::open(&path)?;
    /// let spare = xmmap::MapOptions::new().len(xmmap::page_size()).map_anon()?;
    /// let addr = spare.as_ptr() as usize;
    /// std::mem::forget(spare); // its page is handed to the new map
    /// // SAFETY: the page is ours and its old map is never used again; the
    /// // file is not modified while the map lives.
    /// let code = unsafe { xmmap::MapOptions::new().map_exec_at(&file, addr)? };
    /// assert_eq!((code.as_ptr() as usize, &code[..]), (addr, &[0xc3][..]));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_exec_at(&self, file: &File, addr: usize) -> Result<Map> {
        self.map_file(file, prot::READ | prot::EXEC, Share::Shared, Call::SAFE.at(addr))
            .map(Map::from_inner)
    }

    /// A private anonymous map (`MAP_PRIVATE | MAP_ANONYMOUS`) of
    /// [`len`](Self::len) zeroed bytes (default 0: an empty map).
    ///
    /// # Errors
    ///
    /// An `offset` is [`ErrorKind::InvalidInput`] (anonymous maps have no
    /// file); otherwise as [`map_raw`](Self::map_raw).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = xmmap::MapOptions::new().len(1 << 20).map_anon()?;
    /// assert!(buf.iter().all(|&b| b == 0));
    /// buf[..5].copy_from_slice(b"hello");
    /// # Ok::<(), xmmap::Error>(())
    /// ```
    pub fn map_anon(&self) -> Result<MapMut> {
        self.map_anonymous(Share::Private, Call::SAFE).map(MapMut::from_inner)
    }

    /// Like [`map_anon`](Self::map_anon), but `MAP_FIXED` at `addr`: the
    /// map is placed exactly there (the address of its first byte),
    /// replacing whatever was mapped in that range.
    ///
    /// # Safety
    ///
    /// - `addr..addr + len` (rounded up to pages) must be address space the
    ///   caller owns and no longer uses: anything mapped there, including
    ///   memory Rust or the allocator relies on, is silently replaced, and a
    ///   map previously placed there must not be used again (it would alias
    ///   the new one).
    /// - The promise is for this one call: a second call at the same address
    ///   replaces the first map and needs its own promise.
    /// - Prefer [`fixed_noreplace`](Self::fixed_noreplace), which fails
    ///   instead of replacing.
    ///
    /// # Errors
    ///
    /// As [`map_anon`](Self::map_anon); an address of 0 or one not aligned to
    /// the page (or huge page) size is [`ErrorKind::InvalidInput`], and so is
    /// `fixed_noreplace` (the two exclude each other).
    ///
    /// # Examples
    ///
    /// ```
    /// let page = xmmap::page_size();
    /// let mut old = xmmap::MapOptions::new().len(page).map_anon()?;
    /// old[0] = 1;
    /// let addr = old.as_ptr() as usize;
    /// std::mem::forget(old); // its range is handed to the new map
    /// // SAFETY: the page is ours and the old map is never used again.
    /// let new = unsafe { xmmap::MapOptions::new().len(page).map_anon_at(addr)? };
    /// assert_eq!((new.as_ptr() as usize, new[0]), (addr, 0));
    /// # Ok::<(), xmmap::Error>(())
    /// ```
    pub unsafe fn map_anon_at(&self, addr: usize) -> Result<MapMut> {
        self.map_anonymous(Share::Private, Call::SAFE.at(addr)).map(MapMut::from_inner)
    }

    /// Like [`map_anon`](Self::map_anon), but also accepts
    /// [`huge`](Self::huge) with [`no_reserve`](Self::no_reserve)
    /// (`MAP_HUGETLB | MAP_NORESERVE`), which reserves no huge pages, and
    /// [`uninitialized`](Self::uninitialized) (`MAP_UNINITIALIZED`).
    ///
    /// # Safety
    ///
    /// - With `huge` and `no_reserve`, touching a page that the huge page
    ///   pool cannot supply at that moment raises `SIGBUS` and kills the
    ///   process: the caller must make sure the pool holds the pages (for
    ///   example, nobody else uses it) before touching each one, or must
    ///   install a handler for the fault.
    /// - With `uninitialized`, where the kernel honours it, the map may hold
    ///   another process's old data: the caller must not read a byte of
    ///   this map before writing it, and must accept the information leak
    ///   this flag exists for.
    ///
    /// # Errors
    ///
    /// As [`map_anon`](Self::map_anon).
    ///
    /// # Examples
    ///
    /// ```
    /// // SAFETY: without `huge` this is `map_anon`.
    /// let m = unsafe { xmmap::MapOptions::new().len(4096).unchecked_map_anon()? };
    /// assert_eq!(m[0], 0);
    /// # Ok::<(), xmmap::Error>(())
    /// ```
    pub unsafe fn unchecked_map_anon(&self) -> Result<MapMut> {
        self.map_anonymous(Share::Private, Call::UNCHECKED).map(MapMut::from_inner)
    }

    /// A shared anonymous map (`MAP_SHARED | MAP_ANONYMOUS`): zeroed memory
    /// that a `fork` child shares with its parent (writes on either side are
    /// seen by the other).
    ///
    /// # Errors
    ///
    /// As [`map_anon`](Self::map_anon).
    ///
    /// # Examples
    ///
    /// ```
    /// let shared = xmmap::MapOptions::new().len(4096).map_anon_shared()?;
    /// assert_eq!(shared.len(), 4096);
    /// # Ok::<(), xmmap::Error>(())
    /// ```
    pub fn map_anon_shared(&self) -> Result<MapMut> {
        self.map_anonymous(Share::Shared, Call::SAFE).map(MapMut::from_inner)
    }

    /// Like [`map_anon_shared`](Self::map_anon_shared), but `MAP_FIXED` at
    /// `addr`, replacing whatever was mapped there.
    ///
    /// # Safety
    ///
    /// - As for [`map_anon_at`](Self::map_anon_at).
    ///
    /// # Errors
    ///
    /// As [`map_anon_at`](Self::map_anon_at).
    pub unsafe fn map_anon_shared_at(&self, addr: usize) -> Result<MapMut> {
        self.map_anonymous(Share::Shared, Call::SAFE.at(addr)).map(MapMut::from_inner)
    }

    /// Like [`map_anon_shared`](Self::map_anon_shared), but also accepts
    /// `huge` with `no_reserve`.
    ///
    /// # Safety
    ///
    /// - As for [`unchecked_map_anon`](Self::unchecked_map_anon).
    ///
    /// # Errors
    ///
    /// As [`map_anon`](Self::map_anon).
    pub unsafe fn unchecked_map_anon_shared(&self) -> Result<MapMut> {
        self.map_anonymous(Share::Shared, Call::UNCHECKED).map(MapMut::from_inner)
    }

    /// Maps `file` shared, readable and — if the descriptor was opened for
    /// writing — writable, without handing out references: access goes
    /// through raw pointers or the guarded `MapRaw::read_at` and
    /// `MapRaw::write_at`, so this is safe even when other processes change
    /// or truncate the file.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::InvalidInput`]: the offset is past the end of the file,
    ///   `offset + len` overflows, the length does not fit `isize`, or a flag
    ///   does not apply (for example `validate` on a private map).
    /// - [`ErrorKind::NotMappable`]: a directory, pipe, socket, or a file
    ///   system that refuses `mmap` (procfs, sysfs).
    /// - [`ErrorKind::LimitExceeded`] / [`ErrorKind::BadLimit`]: git's limit.
    /// - [`ErrorKind::OutOfMemory`], [`ErrorKind::AlreadyMapped`],
    ///   [`ErrorKind::HugePagesUnavailable`], [`ErrorKind::LockLimit`],
    ///   [`ErrorKind::Unsupported`], [`ErrorKind::PermissionDenied`]: the
    ///   kernel refused, with what to check.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-raw", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// let raw = xmmap::MapOptions::new().map_raw(&file)?;
    /// assert_eq!(raw.len(), 5);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_raw(&self, file: &File) -> Result<MapRaw> {
        self.map_raw_as(file, Call::UNRESERVED)
    }

    /// Like [`map_raw`](Self::map_raw), but `MAP_FIXED` at `addr`,
    /// replacing whatever was mapped there.
    ///
    /// # Safety
    ///
    /// - As for [`map_anon_at`](Self::map_anon_at) about the address range
    ///   (the map itself hands out no references, as with `map_raw`).
    ///
    /// # Errors
    ///
    /// As [`map_raw`](Self::map_raw) and [`map_anon_at`](Self::map_anon_at).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-raw-at", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// let spare = xmmap::MapOptions::new().len(xmmap::page_size()).map_anon()?;
    /// let addr = spare.as_ptr() as usize;
    /// std::mem::forget(spare); // its page is handed to the new map
    /// // SAFETY: the page is ours and its old map is never used again.
    /// let raw = unsafe { xmmap::MapOptions::new().map_raw_at(&file, addr)? };
    /// let mut buf = [0; 5];
    /// raw.read_at(0, &mut buf)?;
    /// assert_eq!((raw.as_ptr() as usize, &buf), (addr, b"hello"));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_raw_at(&self, file: &File, addr: usize) -> Result<MapRaw> {
        self.map_raw_as(file, Call::UNRESERVED.at(addr))
    }

    /// `map_raw` and its `*_at` form: writable when the descriptor is.
    fn map_raw_as(&self, file: &File, call: Call) -> Result<MapRaw> {
        let (_, writable) = sys::access_mode(file)
            .map_err(|e| Error::with_source(ErrorKind::Io, "fcntl(F_GETFL) on the file", e))?;
        let prot = if writable { prot::READ | prot::WRITE } else { prot::READ };
        self.map_file(file, prot, Share::Shared, call).map(MapRaw::from_inner)
    }

    /// Maps `file` shared and read-only without handing out references; see
    /// [`map_raw`](Self::map_raw).
    ///
    /// # Errors
    ///
    /// As [`map_raw`](Self::map_raw).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-rro", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// let raw = xmmap::MapOptions::new().map_raw_read_only(&file)?;
    /// assert_eq!(raw.len(), 5);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_raw_read_only(&self, file: &File) -> Result<MapRaw> {
        self.map_file(file, prot::READ, Share::Shared, Call::UNRESERVED).map(MapRaw::from_inner)
    }

    /// Like [`map_raw_read_only`](Self::map_raw_read_only), but `MAP_FIXED`
    /// at `addr`, replacing whatever was mapped there.
    ///
    /// # Safety
    ///
    /// - As for [`map_raw_at`](Self::map_raw_at).
    ///
    /// # Errors
    ///
    /// As [`map_raw`](Self::map_raw) and [`map_anon_at`](Self::map_anon_at).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-rro-at", std::process::id()));
    /// # std::fs::write(&path, b"hello")?;
    /// let file = std::fs::File::open(&path)?;
    /// let spare = xmmap::MapOptions::new().len(xmmap::page_size()).map_anon()?;
    /// let addr = spare.as_ptr() as usize;
    /// std::mem::forget(spare); // its page is handed to the new map
    /// // SAFETY: the page is ours and its old map is never used again.
    /// let raw = unsafe { xmmap::MapOptions::new().map_raw_read_only_at(&file, addr)? };
    /// let mut buf = [0; 5];
    /// raw.read_at(0, &mut buf)?;
    /// assert_eq!((raw.as_ptr() as usize, &buf), (addr, b"hello"));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn map_raw_read_only_at(&self, file: &File, addr: usize) -> Result<MapRaw> {
        self.map_file(file, prot::READ, Share::Shared, Call::UNRESERVED.at(addr))
            .map(MapRaw::from_inner)
    }

    fn limit_in_force(&self) -> Result<Limit> {
        match self.limit {
            Some(l) => Ok(l),
            None => Limit::from_env(),
        }
    }

    pub(crate) fn map_file(
        &self,
        file: &File,
        prot: u32,
        share: Share,
        call: Call,
    ) -> Result<Inner> {
        // The path only names the file in error messages, and readlink of
        // /proc/self/fd costs more than the mmap itself: read it on error.
        let path = || sys::fd_path(file).map(|p| p.display().to_string());
        let name = || path().unwrap_or_else(|| "the file".to_string());
        // What fstat (and for an empty regular file, fstatfs) says, or why
        // the file cannot be mapped.
        let examine = || -> Result<sys::FileInfo> {
            let info = sys::fstat(file).map_err(|e| {
                Error::with_source(ErrorKind::Io, format!("fstat of {}", name()), e)
            })?;
            if info.kind == FileKind::Regular && info.size == 0 {
                let fs = sys::fs_kind(file).unwrap_or(FsKind::Other);
                if matches!(fs, FsKind::Proc | FsKind::Sys) {
                    return Err(Error::new(
                        ErrorKind::NotMappable,
                        format!(
                            "cannot map {name}: {} files report size 0 and cannot be \
                             memory-mapped; read them instead (xmmap::Source does)",
                            if fs == FsKind::Proc { "procfs" } else { "sysfs" },
                            name = name()
                        ),
                    ));
                }
            }
            Ok(info)
        };
        // Given a length at offset 0, nothing needs the file's size: the
        // kernel refuses what cannot be mapped, and `examine` then explains
        // the refusal. This saves the fstat of every such map.
        let trusted = self.offset == 0 && self.len.is_some_and(|l| l > 0) && self.huge.is_none();
        let info = match self.len {
            Some(len) if trusted => {
                sys::FileInfo { kind: FileKind::Regular, size: len as u64, dev: 0, ino: 0 }
            }
            _ => examine()?,
        };
        // The kernel refuses a descriptor without the access the map needs
        // (EACCES); fcntl says which access is missing, so it runs only then
        // (and for an empty map, which makes no system call).
        let access_error = || -> Option<Error> {
            let (readable, writable) = match sys::access_mode(file) {
                Ok(mode) => mode,
                Err(e) => {
                    let what = format!("fcntl(F_GETFL) of {}", name());
                    return Some(Error::with_source(ErrorKind::Io, what, e));
                }
            };
            if !readable {
                return Some(Error::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "cannot map {}: the descriptor is write-only; mmap needs read access",
                        name()
                    ),
                ));
            }
            if prot & prot::WRITE != 0 && share == Share::Shared && !writable {
                return Some(Error::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "cannot map {name} writable and shared: the descriptor was opened read-only; \
                         open it with read and write access (or use map_copy for private writes)",
                        name = name()
                    ),
                ));
            }
            None
        };
        let limit = self.limit_in_force()?;
        let plan = plan_call(self, call, prot, share, Some(info), &Env::current(self))
            .map_err(|e| name_file(e, &name()))?;
        let Some(plan) = plan else {
            return access_error().map_or(Ok(Inner::empty()), Err);
        };
        limit.check(plan.map_len as u64)?;
        // SAFETY: without MAP_FIXED the kernel picks free address space;
        // MAP_FIXED comes only from `call.at`, which only the unsafe `*_at`
        // constructors set, whose caller vouches for the range.
        let ptr = unsafe {
            sys::mmap(plan.addr, plan.map_len, plan.prot, plan.flags, Some(file), plan.file_offset)
        }
        .map_err(|e| {
            // A refusal of a length given at offset 0: say what fstat says
            // is wrong with the file, as without a length.
            let unfit = || {
                examine()
                    .and_then(|info| {
                        plan_call(self, call, prot, share, Some(info), &Env::current(self))
                            .map_err(|e| name_file(e, &name()))
                    })
                    .err()
            };
            trusted
                .then(unfit)
                .flatten()
                .or_else(|| match Errno::of(&e) {
                    Some(Errno::ACCESS) => access_error(),
                    _ => None,
                })
                .unwrap_or_else(|| mmap_error(e, self, &plan, path().as_deref()))
        })?;
        // SAFETY: the kernel just gave us this mapping.
        Ok(unsafe { Inner::from_raw(ptr, plan.map_len, plan.delta, plan.len, plan.granule) })
    }

    fn map_anonymous(&self, share: Share, call: Call) -> Result<Inner> {
        let limit = self.limit_in_force()?;
        let plan =
            plan_call(self, call, prot::READ | prot::WRITE, share, None, &Env::current(self))?;
        let Some(plan) = plan else { return Ok(Inner::empty()) };
        limit.check(plan.map_len as u64)?;
        // SAFETY: as in map_file; huge + no_reserve and uninitialized pass
        // `plan` only for the unsafe `unchecked_*` constructors, whose
        // caller vouches for the pool and for not reading old data.
        let ptr = unsafe { sys::mmap(plan.addr, plan.map_len, plan.prot, plan.flags, None, 0) }
            .map_err(|e| mmap_error(e, self, &plan, None))?;
        // SAFETY: the kernel just gave us this mapping.
        Ok(unsafe { Inner::from_raw(ptr, plan.map_len, plan.delta, plan.len, plan.granule) })
    }
}

/// Adds the file's name to an argument error from [`plan_call`].
fn name_file(e: Error, name: &str) -> Error {
    match e.kind() {
        ErrorKind::InvalidInput | ErrorKind::NotMappable => {
            Error::new(e.kind().clone(), format!("cannot map {name}: {}", e.message()))
        }
        _ => e,
    }
}
