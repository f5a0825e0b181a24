//! The planner: [`plan_call`] turns [`MapOptions`], what `fstat` said about
//! the file and what the system says ([`Env`]) into the arguments of one
//! `mmap` call. It makes no system call and reads no file (the caller
//! gathers [`Env`]), so it is unit-tested on its own.

use super::MapOptions;
use crate::error::{Error, ErrorKind, Result};
use crate::page::{align_down, align_up, human, page_size};
use crate::sys::{self, flags, FileKind};

/// Sharing type of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Share {
    Shared,
    Private,
}

/// What one constructor allows beyond the options: what its caller promised
/// (unsafe constructors) or what its map type makes harmless (`MapRaw`).
/// Never part of [`MapOptions`], so that a promise covers one call only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Call {
    /// `MAP_FIXED` at this address (the unsafe `*_at` constructors).
    pub(crate) at: Option<usize>,
    /// `huge` + `no_reserve` allowed: the map may fault on touch.
    pub(crate) unreserved: bool,
    /// `uninitialized` allowed: the map may hold old data.
    pub(crate) uninit: bool,
}

impl Call {
    pub(crate) const SAFE: Call = Call { at: None, unreserved: false, uninit: false };
    /// `MapRaw`: its guarded access reports a fault as an error.
    pub(crate) const UNRESERVED: Call = Call { at: None, unreserved: true, uninit: false };
    /// The `unchecked_*` constructors, whose caller vouches for both.
    pub(crate) const UNCHECKED: Call = Call { at: None, unreserved: true, uninit: true };

    /// This call, placed with `MAP_FIXED` at `addr` (the `*_at` form of
    /// the constructor that makes it).
    pub(crate) fn at(self, addr: usize) -> Call {
        Call { at: Some(addr), ..self }
    }
}

/// What the system says, gathered once per call so that [`plan_call`] stays
/// pure.
#[derive(Debug, Clone)]
pub(crate) struct Env {
    pub(crate) page: usize,
    /// What file offsets and fixed addresses must be multiples of: the page
    /// size on Linux, the allocation granularity (64 KiB) on Windows.
    pub(crate) offset_align: usize,
    /// The huge page sizes the kernel offers (sysfs); read only for a map
    /// that asks for huge pages.
    pub(crate) huge_sizes: Vec<u64>,
    pub(crate) default_huge: Option<u64>,
    pub(crate) has_32bit: bool,
}

impl Env {
    /// The system as the options `o` need it: the huge page sizes only if
    /// `o` asks for huge pages (reading them costs a walk of sysfs).
    pub(crate) fn current(o: &MapOptions) -> Env {
        let huge = o.huge.is_some();
        Env {
            page: page_size(),
            offset_align: crate::sys::offset_granularity(),
            huge_sizes: if huge {
                crate::page::huge_page_sizes().iter().map(|h| h.size).collect()
            } else {
                Vec::new()
            },
            default_huge: if huge { crate::page::default_huge_page_size() } else { None },
            has_32bit: cfg!(target_arch = "x86_64"),
        }
    }
}

/// The arguments of one `mmap` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) addr: usize,
    pub(crate) map_len: usize,
    pub(crate) prot: u32,
    pub(crate) flags: u32,
    pub(crate) file_offset: u64,
    pub(crate) delta: usize,
    pub(crate) len: usize,
    pub(crate) granule: usize,
}

/// [`plan_call`] for a safe constructor.
#[cfg(test)]
pub(crate) fn plan(
    o: &MapOptions,
    prot: u32,
    share: Share,
    file: Option<sys::FileInfo>,
    env: &Env,
) -> Result<Option<Plan>> {
    plan_call(o, Call::SAFE, prot, share, file, env)
}

/// `MAP_*` bits that [`MapOptions::extra_flags`] may not carry, with their
/// names: the constructor or a setter owns them.
const OWNED_FLAGS: [(u32, &str); 14] = [
    (flags::SHARED_VALIDATE, "MAP_SHARED_VALIDATE"),
    (flags::SHARED, "MAP_SHARED"),
    (flags::PRIVATE, "MAP_PRIVATE"),
    (flags::FIXED, "MAP_FIXED"),
    (flags::FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"),
    (flags::ANONYMOUS, "MAP_ANONYMOUS"),
    (flags::HUGETLB, "MAP_HUGETLB"),
    (flags::NORESERVE, "MAP_NORESERVE"),
    (flags::UNINITIALIZED, "MAP_UNINITIALIZED"),
    (flags::GROWSDOWN, "MAP_GROWSDOWN"),
    (flags::LOCKED, "MAP_LOCKED"),
    (flags::POPULATE, "MAP_POPULATE"),
    (flags::SYNC, "MAP_SYNC"),
    (flags::LOW_32BIT, "MAP_32BIT"),
];

/// Turns options into `mmap` arguments for one constructor call. `Ok(None)`
/// means an empty map: no system call. `file` is `None` for anonymous maps.
pub(crate) fn plan_call(
    o: &MapOptions,
    call: Call,
    prot: u32,
    share: Share,
    file: Option<sys::FileInfo>,
    env: &Env,
) -> Result<Option<Plan>> {
    // SHARED_VALIDATE is SHARED | PRIVATE: name it before its parts.
    let owned = OWNED_FLAGS.iter().find(|&&(bit, _)| {
        if bit == flags::SHARED_VALIDATE {
            o.extra_flags & bit == bit
        } else {
            o.extra_flags & bit != 0
        }
    });
    if let Some((_, name)) = owned {
        return Err(Error::invalid(format!(
            "extra_flags {:#x} holds {name}, which extra_flags may not carry: the sharing type \
             comes from the constructor, MAP_FIXED from the unsafe map_*_at constructors, \
             MAP_FIXED_NOREPLACE and the other known flags from their MapOptions setters",
            o.extra_flags
        )));
    }
    if o.huge.is_some() && o.no_reserve && !call.unreserved {
        return Err(Error::invalid(
            "huge with no_reserve (MAP_HUGETLB | MAP_NORESERVE) reserves no huge pages, so the \
             first touch of a page the pool cannot supply raises SIGBUS; drop no_reserve, or \
             map with map_raw (guarded access reports the fault) or the unsafe \
             unchecked_map_anon / unchecked_map_anon_shared",
        ));
    }
    let anon = file.is_none();
    if anon && o.offset != 0 {
        return Err(Error::invalid(format!(
            "offset {} given for an anonymous map: anonymous maps have no file to offset into",
            o.offset
        )));
    }
    if o.offset > i64::MAX as u64 {
        return Err(Error::invalid(format!(
            "offset {} is larger than the largest file offset (off_t, 2^63 - 1)",
            o.offset
        )));
    }
    let len: u64 = match (file, o.len) {
        (Some(info), len) => {
            match info.kind {
                FileKind::Regular | FileKind::BlockDevice | FileKind::CharDevice => {}
                other => {
                    return Err(Error::new(
                        ErrorKind::NotMappable,
                        format!(
                            "cannot map {}: only regular files and devices can be mapped",
                            other.describe()
                        ),
                    ))
                }
            }
            let sized = info.kind == FileKind::Regular;
            if sized && o.offset > info.size {
                return Err(Error::invalid(format!(
                    "offset {} is past the end of the file ({} bytes)",
                    o.offset, info.size
                )));
            }
            match len {
                Some(l) => l as u64,
                None if sized => info.size - o.offset,
                None => {
                    return Err(Error::invalid(format!(
                        "{} has no size: give the length to map with MapOptions::len",
                        info.kind.describe()
                    )))
                }
            }
        }
        (None, len) => len.unwrap_or(0) as u64,
    };
    if len > isize::MAX as u64 {
        return Err(Error::invalid(format!(
            "length {len} does not fit in memory (more than isize::MAX bytes)"
        )));
    }
    if o.offset.checked_add(len).is_none_or(|end| end > i64::MAX as u64) {
        return Err(Error::invalid(format!(
            "offset {} + length {len} overflows the largest file offset",
            o.offset
        )));
    }
    let len = len as usize;

    let mut flags = match (share, anon) {
        (Share::Shared, _) if o.validate || o.sync => flags::SHARED_VALIDATE,
        (Share::Shared, _) => flags::SHARED,
        (Share::Private, _) if o.validate => {
            return Err(Error::invalid(
                "validate (MAP_SHARED_VALIDATE) applies to shared maps only",
            ))
        }
        (Share::Private, _) if o.sync => {
            return Err(Error::invalid("sync (MAP_SYNC) applies to shared file maps only"))
        }
        (Share::Private, _) => flags::PRIVATE,
    };
    if anon {
        flags |= flags::ANONYMOUS;
        if o.sync {
            return Err(Error::invalid("sync (MAP_SYNC) applies to shared file maps only"));
        }
        if o.validate {
            return Err(Error::invalid(
                "validate (MAP_SHARED_VALIDATE) applies to shared file maps only: the kernel \
                 refuses it for anonymous memory",
            ));
        }
        if o.grows_down && share == Share::Shared {
            return Err(Error::invalid(
                "grows_down (MAP_GROWSDOWN) applies to private anonymous maps only: the kernel \
                 refuses it for shared memory",
            ));
        }
    } else if o.grows_down {
        return Err(Error::invalid("grows_down (MAP_GROWSDOWN) applies to anonymous maps only"));
    }

    let mut granule = env.page;
    if let Some(bits) = o.huge {
        let size = match bits {
            Some(b) if b >= 63 => {
                return Err(Error::new(
                    ErrorKind::HugePagesUnavailable { size: 0 },
                    format!("huge page size 2^{b} is not a page size"),
                ))
            }
            Some(b) => 1u64 << b,
            None => env.default_huge.ok_or_else(|| {
                Error::new(
                    ErrorKind::HugePagesUnavailable { size: 0 },
                    "this kernel reports no default huge page size (no hugetlbfs support)",
                )
            })?,
        };
        if !env.huge_sizes.contains(&size) {
            let known: Vec<String> = env.huge_sizes.iter().map(|&s| human(s)).collect();
            return Err(Error::new(
                ErrorKind::HugePagesUnavailable { size },
                format!(
                    "huge page size {} is not supported by this kernel (supported: {})",
                    human(size),
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
            ));
        }
        if size as usize <= env.page {
            return Err(Error::invalid(format!(
                "huge page size {size} is not above the page size"
            )));
        }
        if o.offset % size != 0 {
            return Err(Error::invalid(format!(
                "offset {} is not a multiple of the huge page size {}",
                o.offset,
                human(size)
            )));
        }
        granule = size as usize;
        flags |= flags::HUGETLB;
        if let Some(b) = bits {
            flags |= (u32::from(b) & flags::HUGE_MASK) << flags::HUGE_SHIFT;
        }
    }
    if len == 0 {
        return Ok(None);
    }
    // The flags that are one setter each (checked above where they must be).
    for (set, bit) in [
        (o.populate, flags::POPULATE),
        (o.no_reserve, flags::NORESERVE),
        (o.locked, flags::LOCKED),
        (o.stack, flags::STACK),
        (o.grows_down, flags::GROWSDOWN),
        (o.nonblock, flags::NONBLOCK),
        (o.sync, flags::SYNC),
    ] {
        if set {
            flags |= bit;
        }
    }
    if o.low_32bit {
        if !env.has_32bit {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "low_32bit (MAP_32BIT) exists only on x86_64",
            ));
        }
        flags |= flags::LOW_32BIT;
    }
    if o.uninitialized {
        if !anon {
            return Err(Error::invalid(
                "uninitialized (MAP_UNINITIALIZED) applies to anonymous maps only",
            ));
        }
        if !call.uninit {
            return Err(Error::invalid(
                "uninitialized (MAP_UNINITIALIZED) may hand out another process's old data: \
                 map with the unsafe unchecked_map_anon / unchecked_map_anon_shared",
            ));
        }
        flags |= flags::UNINITIALIZED;
    }
    if call.at.is_some() && o.fixed_noreplace {
        return Err(Error::invalid(
            "a map_*_at constructor (MAP_FIXED) and fixed_noreplace exclude each other: \
             choose one",
        ));
    }
    let fixed = call.at.is_some();
    let addr = call.at.unwrap_or(o.hint);
    // Windows maps views at multiples of its allocation granularity, not
    // of the page: offsets and fixed addresses round to the larger.
    let align = granule.max(env.offset_align);
    if fixed || o.fixed_noreplace {
        if addr == 0 || addr % align != 0 {
            return Err(Error::invalid(format!(
                "{} needs a non-zero address aligned to {} bytes, got {:#x}",
                if fixed { "map_*_at (MAP_FIXED)" } else { "fixed_noreplace" },
                align,
                addr
            )));
        }
        flags |= if fixed { flags::FIXED } else { flags::FIXED_NOREPLACE };
    }
    flags |= o.extra_flags;

    let file_offset = align_down(o.offset, align as u64);
    let delta = (o.offset - file_offset) as usize;
    let map_len = delta
        .checked_add(len)
        .and_then(|l| align_up(l as u64, if o.huge.is_some() { granule as u64 } else { 1 }))
        .filter(|&l| l <= isize::MAX as u64)
        .ok_or_else(|| {
            Error::invalid(format!(
                "length {len} plus the {delta} bytes below the unaligned offset overflows"
            ))
        })? as usize;
    Ok(Some(Plan { addr, map_len, prot, flags, file_offset, delta, len, granule }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{prot, FileInfo};

    fn env() -> Env {
        Env {
            page: 4096,
            offset_align: 4096,
            huge_sizes: vec![2 << 20, 1 << 30],
            default_huge: Some(2 << 20),
            has_32bit: true,
        }
    }

    fn file(size: u64) -> Option<FileInfo> {
        Some(FileInfo { kind: FileKind::Regular, size, dev: 1, ino: 1 })
    }

    fn ok(o: &MapOptions, size: u64) -> Plan {
        plan(o, prot::READ, Share::Shared, file(size), &env()).unwrap().unwrap()
    }

    #[test]
    fn unaligned_offset_maps_from_the_page_below() {
        let p = ok(MapOptions::new().offset(5000).len(100), 10_000);
        assert_eq!((p.file_offset, p.delta, p.len, p.map_len), (4096, 904, 100, 1004));
        assert_eq!(p.flags, flags::SHARED);
    }

    /// Regression: the offset was aligned to the page, but Windows maps views
    /// only at multiples of its 64 KiB allocation granularity.
    #[test]
    fn unaligned_offset_maps_from_the_allocation_granule_below() {
        let env = Env { offset_align: 65536, ..env() };
        let o = MapOptions::new().offset(70_000).len(100).clone();
        let p = plan(&o, prot::READ, Share::Shared, file(100_000), &env).unwrap().unwrap();
        assert_eq!((p.file_offset, p.delta, p.len, p.map_len), (65536, 4464, 100, 4564));
        let o = MapOptions::new().fixed_noreplace(true).hint(4096).len(100).clone();
        let e = plan(&o, prot::READ, Share::Shared, file(100_000), &env).unwrap_err();
        assert!(e.to_string().contains("aligned to 65536"), "{e}");
    }

    #[test]
    fn default_length_runs_to_end_of_file() {
        let p = ok(MapOptions::new().offset(1), 8193);
        assert_eq!((p.len, p.delta, p.map_len), (8192, 1, 8193));
    }

    #[test]
    fn offset_at_end_is_empty_and_past_end_is_an_error() {
        let o = MapOptions::new().offset(100).clone();
        assert_eq!(plan(&o, prot::READ, Share::Shared, file(100), &env()).unwrap(), None);
        let e = plan(&o, prot::READ, Share::Shared, file(99), &env()).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput);
        assert!(e.to_string().contains("past the end"), "{e}");
    }

    #[test]
    fn overflowing_lengths_are_errors_not_panics() {
        for (off, len) in [
            (0u64, usize::MAX),
            (0, isize::MAX as usize + 1),
            (u64::MAX, 1),
            (i64::MAX as u64, 2),
            (4095, isize::MAX as usize),
        ] {
            let o = MapOptions::new().offset(off).len(len).clone();
            let e = plan(&o, prot::READ, Share::Shared, file(u64::MAX), &env()).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{off} {len}: {e}");
        }
    }

    #[test]
    fn offsets_above_4_gib_keep_their_high_bits() {
        let off = (5u64 << 32) + 123;
        let p = ok(MapOptions::new().offset(off).len(10), off + 10);
        assert_eq!(p.file_offset, 5 << 32);
        assert_eq!(p.delta, 123);
    }

    #[test]
    fn every_flag_reaches_the_syscall() {
        let o = MapOptions::new()
            .len(4096)
            .populate(true)
            .no_reserve(true)
            .locked(true)
            .stack(true)
            .nonblock(true)
            .low_32bit(true)
            .clone();
        let p = plan(&o, prot::READ | prot::WRITE, Share::Private, None, &env()).unwrap().unwrap();
        let want = flags::PRIVATE
            | flags::ANONYMOUS
            | flags::POPULATE
            | flags::NORESERVE
            | flags::LOCKED
            | flags::STACK
            | flags::NONBLOCK
            | flags::LOW_32BIT;
        assert_eq!(p.flags, want);
        let g = MapOptions::new().len(4096).grows_down(true).clone();
        let p = plan(&g, prot::READ, Share::Private, None, &env()).unwrap().unwrap();
        assert_eq!(p.flags, flags::PRIVATE | flags::ANONYMOUS | flags::GROWSDOWN);
    }

    #[test]
    fn validate_and_sync_use_shared_validate() {
        let p = ok(MapOptions::new().validate(true), 10);
        assert_eq!(p.flags, flags::SHARED_VALIDATE);
        let p = ok(MapOptions::new().sync(true), 10);
        assert_eq!(p.flags, flags::SHARED_VALIDATE | flags::SYNC);
        for o in [MapOptions::new().validate(true).clone(), MapOptions::new().sync(true).clone()] {
            let e = plan(&o, prot::READ, Share::Private, file(10), &env()).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn huge_pages_round_length_and_encode_size() {
        let o = MapOptions::new().len(100).huge(Some(21)).clone();
        let p = plan(&o, prot::READ, Share::Private, None, &env()).unwrap().unwrap();
        assert_eq!(p.map_len, 2 << 20);
        assert_eq!(p.granule, 2 << 20);
        assert_eq!(p.flags, flags::PRIVATE | flags::ANONYMOUS | flags::HUGETLB | (21 << 26));
        let d = MapOptions::new().len(100).huge(None).clone();
        let p = plan(&d, prot::READ, Share::Private, None, &env()).unwrap().unwrap();
        assert_eq!(p.flags & flags::HUGETLB, flags::HUGETLB);
        assert_eq!(p.flags >> 26, 0);
        let bad = MapOptions::new().len(100).huge(Some(22)).clone();
        let e = plan(&bad, prot::READ, Share::Private, None, &env()).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::HugePagesUnavailable { size: 4 << 20 });
    }

    #[test]
    fn fixed_addresses_must_be_aligned() {
        let o = MapOptions::new().len(10).hint(4097).fixed_noreplace(true).clone();
        assert!(plan(&o, prot::READ, Share::Private, None, &env()).is_err());
        let o = MapOptions::new().len(10).hint(1 << 30).fixed_noreplace(true).clone();
        let p = plan(&o, prot::READ, Share::Private, None, &env()).unwrap().unwrap();
        assert_eq!((p.addr, p.flags & flags::FIXED_NOREPLACE), (1 << 30, flags::FIXED_NOREPLACE));
        let h = MapOptions::new().len(10).hint(12345).clone();
        assert_eq!(
            plan(&h, prot::READ, Share::Private, None, &env()).unwrap().unwrap().addr,
            12345
        );
    }

    #[test]
    fn only_a_fixed_call_sets_map_fixed() {
        let o = MapOptions::new().len(10).clone();
        let at = plan_call(&o, Call::SAFE.at(1 << 30), prot::READ, Share::Private, None, &env());
        let p = at.unwrap().unwrap();
        assert_eq!((p.addr, p.flags & flags::FIXED), (1 << 30, flags::FIXED));
        let p = plan(&o, prot::READ, Share::Private, None, &env()).unwrap().unwrap();
        assert_eq!(p.flags & (flags::FIXED | flags::FIXED_NOREPLACE), 0);
        for addr in [0, 4097] {
            let e = plan_call(&o, Call::SAFE.at(addr), prot::READ, Share::Private, None, &env());
            assert_eq!(e.unwrap_err().kind(), &ErrorKind::InvalidInput);
        }
        // A fixed raw map keeps what its map type allows, and adds nothing else.
        let raw = Call::UNRESERVED.at(1 << 30);
        assert_eq!(raw, Call { at: Some(1 << 30), unreserved: true, uninit: false });
    }

    #[test]
    fn extra_flags_refuse_the_bits_this_crate_owns() {
        for &(bit, name) in &OWNED_FLAGS {
            let mut o = MapOptions::new();
            // SAFETY: only planned, never mapped.
            unsafe { o.len(10).extra_flags(bit | 0x0020_0000) };
            let e = plan(&o, prot::READ, Share::Private, None, &env()).unwrap_err();
            assert!(e.to_string().contains(&format!("holds {name},")), "{name}: {e}");
        }
        let mut o = MapOptions::new();
        // SAFETY: as above.
        unsafe { o.len(10).extra_flags(0x0020_0000) };
        let p = plan(&o, prot::READ, Share::Private, None, &env()).unwrap().unwrap();
        assert_eq!(p.flags, flags::PRIVATE | flags::ANONYMOUS | 0x0020_0000);
    }

    #[test]
    fn uninitialized_needs_an_unchecked_call() {
        let o = MapOptions::new().len(10).uninitialized(true).clone();
        let e = plan(&o, prot::READ, Share::Private, None, &env()).unwrap_err();
        assert!(e.to_string().contains("unchecked_map_anon"), "{e}");
        let p = plan_call(&o, Call::UNCHECKED, prot::READ, Share::Private, None, &env());
        assert_eq!(p.unwrap().unwrap().flags & flags::UNINITIALIZED, flags::UNINITIALIZED);
    }

    #[test]
    fn huge_no_reserve_needs_an_unreserved_call() {
        let o = MapOptions::new().len(10).huge(None).no_reserve(true).clone();
        let e = plan(&o, prot::READ, Share::Private, None, &env()).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput);
        let p = plan_call(&o, Call::UNRESERVED, prot::READ, Share::Private, None, &env());
        let flags = p.unwrap().unwrap().flags;
        assert_eq!(flags & (flags::HUGETLB | flags::NORESERVE), flags::HUGETLB | flags::NORESERVE);
    }

    #[test]
    fn unmappable_kinds_and_misplaced_options_are_refused() {
        for kind in [FileKind::Directory, FileKind::Fifo, FileKind::Socket] {
            let info = Some(FileInfo { kind, size: 0, dev: 0, ino: 0 });
            let e = plan(&MapOptions::new(), prot::READ, Share::Shared, info, &env()).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::NotMappable);
        }
        let dev = Some(FileInfo { kind: FileKind::CharDevice, size: 0, dev: 0, ino: 0 });
        assert!(plan(&MapOptions::new(), prot::READ, Share::Shared, dev, &env()).is_err());
        assert!(plan(MapOptions::new().len(10), prot::READ, Share::Shared, dev, &env()).is_ok());
        let anon_off = MapOptions::new().offset(1).len(10).clone();
        assert!(plan(&anon_off, prot::READ, Share::Private, None, &env()).is_err());
        let mut no32 = env();
        no32.has_32bit = false;
        let o = MapOptions::new().len(10).low_32bit(true).clone();
        let e = plan(&o, prot::READ, Share::Private, None, &no32).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Unsupported);
    }

    #[test]
    fn zero_length_needs_no_syscall() {
        assert_eq!(
            plan(&MapOptions::new(), prot::READ, Share::Private, None, &env()).unwrap(),
            None
        );
        assert_eq!(
            plan(&MapOptions::new(), prot::READ, Share::Shared, file(0), &env()).unwrap(),
            None
        );
    }
}
