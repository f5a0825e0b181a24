//! The ways to get a file's bytes into the scan [`kernel`](crate::kernel):
//! each is a named closure over an [`Input`], returning the kernel's result
//! (so that every method can be checked against the others). The names
//! the tables print are constants here ([`READ`], [`MAP`], ...), so that a
//! caller picks a measurement out of a [`Section`](crate::Section) by the
//! same name the method was given, and [`describe`] says what each name
//! measures.
//!
//! # Safety
//!
//! The mapping methods hand out `&[u8]` into shared file mappings. The
//! benchmark files live in a private temporary directory and nobody else
//! modifies or truncates them while they are measured.
#![allow(unsafe_code)]

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use crate::input::Input;
use crate::kernel::xor;

/// `open` + `read()` into a reused buffer + the kernel: [`Method::read`].
pub const READ: &str = "read()";
/// `std::fs::read` into a new `Vec` + the kernel: [`Method::read_to_vec`].
pub const READ_TO_VEC: &str = "read() to Vec";
/// `open` + `mmap` + the kernel + `munmap`: [`Method::xmmap_map`].
pub const MAP: &str = "xmmap map";
/// `open` + the fast path [`xmmap::scan`] with its defaults: the name to
/// give [`Method::xmmap_scan`] for the default options.
pub const SCAN: &str = "xmmap scan";
/// The kernel alone over the file's page-cache pages, mapped and
/// prefaulted once: [`Method::ceiling_mapped`].
pub const CEILING_MAPPED: &str = "page-cache ceiling";
/// The kernel over a heap copy of the file: [`Method::ceiling`].
pub const CEILING: &str = "in-memory ceiling";
/// The kernel over a copy in an anonymous map advised `MADV_HUGEPAGE`:
/// [`Method::ceiling_huge`].
pub const CEILING_HUGE: &str = "ceiling, huge pages";

/// What the method named `name` (one of this module's constants) measures
/// per call, in one line for a table's legend; `None` for other names.
///
/// # Examples
///
/// ```
/// use xmmap_bench::method;
///
/// assert!(method::describe(method::MAP).unwrap().contains("munmap"));
/// assert_eq!(method::describe("no such method"), None);
/// ```
pub fn describe(name: &str) -> Option<&'static str> {
    Some(match name {
        READ => "open + read() into a reused buffer + the kernel over each part + close",
        READ_TO_VEC => {
            "std::fs::read (open, fstat, read to end) into a new Vec + the kernel + free"
        }
        MAP => "open + mmap of the whole file + the kernel (its page faults included) + munmap",
        SCAN => {
            "open + xmmap::scan: 2 MiB-aligned chunks prefaulted (by a helper thread when a \
             core is idle) + the kernel + unmap"
        }
        CEILING_MAPPED => {
            "the kernel alone over the file's page-cache pages, mapped and prefaulted once \
             before timing (no open, fault, copy or unmap): what remains of any method"
        }
        CEILING => "the kernel over a heap copy of the file, made once before timing",
        CEILING_HUGE => {
            "the kernel over a copy in an anonymous map advised MADV_HUGEPAGE, made once \
             before timing"
        }
        _ => return None,
    })
}

/// The closure a method runs once per call.
type Run<'a> = Box<dyn FnMut(&Input) -> io::Result<u64> + 'a>;

/// One way of getting a file's bytes into the kernel, by name.
pub struct Method<'a> {
    name: String,
    run: Run<'a>,
}

impl fmt::Debug for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Method").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<'a> Method<'a> {
    /// A method named `name` that runs `run` once per call.
    pub fn new(
        name: impl Into<String>,
        run: impl FnMut(&Input) -> io::Result<u64> + 'a,
    ) -> Method<'a> {
        Method { name: name.into(), run: Box::new(run) }
    }

    /// The method's name, as the tables print it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs the method once on `input`.
    ///
    /// # Errors
    ///
    /// Whatever the method's I/O or mapping returns.
    pub fn run(&mut self, input: &Input) -> io::Result<u64> {
        (self.run)(input)
    }

    /// The ceiling of every method that reads a hot file: the kernel over
    /// the file's own page-cache pages, mapped once (populated) on the first
    /// call for each input and kept, so that a call only reads the bytes.
    /// Every other method reads the same physical pages and does more (a
    /// copy, page faults, an unmap), so none beats it beyond noise. The
    /// mapping has the page cache's page sizes: a large folio is mapped by
    /// one PMD, as for [`xmmap_map`](Self::xmmap_map) and
    /// [`xmmap_scan`](Self::xmmap_scan), which a heap copy
    /// ([`ceiling`](Self::ceiling), 4 KiB pages) does not have. Time it
    /// after a warm-up call.
    pub fn ceiling_mapped() -> Method<'a> {
        let mut loaded: Option<(PathBuf, xmmap::Map)> = None;
        Method::new(CEILING_MAPPED, move |input| {
            if loaded.as_ref().is_none_or(|(p, _)| p != &input.path) {
                loaded = None; // unmap the old file first
                let f = File::open(&input.path)?;
                // SAFETY: see the module's # Safety: nobody changes the file.
                let map = unsafe { xmmap::MapOptions::new().map(&f) }?;
                // Populated by advice, where a platform without
                // MAP_POPULATE touches each page instead.
                map.populate()?;
                loaded = Some((input.path.clone(), map));
            }
            Ok(xor(&loaded.as_ref().expect("just mapped").1))
        })
    }

    /// The in-memory ceiling of the harness ("1.0"): the kernel over a
    /// resident heap buffer holding the input's bytes (loaded, and so
    /// touched, on the first call for each input; time it after a warm-up
    /// call). With 4 KiB pages (transparent huge pages not `always`) a
    /// mapped method over a page cache of large folios can be faster: see
    /// [`ceiling_mapped`](Self::ceiling_mapped).
    pub fn ceiling() -> Method<'a> {
        let mut loaded: Option<(PathBuf, Vec<u8>)> = None;
        Method::new(CEILING, move |input| {
            if loaded.as_ref().is_none_or(|(p, _)| p != &input.path) {
                loaded = None; // free the old buffer first
                loaded = Some((input.path.clone(), std::fs::read(&input.path)?));
            }
            Ok(xor(&loaded.as_ref().expect("just loaded").1))
        })
    }

    /// The ceiling with transparent huge pages: the same kernel over an
    /// anonymous buffer advised `MADV_HUGEPAGE` (fewer TLB misses than the
    /// heap's 4 KiB pages; what a PMD-mapped file can reach).
    pub fn ceiling_huge() -> Method<'a> {
        let mut loaded: Option<(PathBuf, xmmap::MapMut)> = None;
        Method::new(CEILING_HUGE, move |input| {
            if loaded.as_ref().is_none_or(|(p, _)| p != &input.path) {
                loaded = None;
                let bytes = std::fs::read(&input.path)?;
                let mut buf = xmmap::MapOptions::new().len(bytes.len()).map_anon()?;
                // Best effort: without THP the buffer is a plain ceiling.
                let _ = buf.advise(xmmap::Advice::HugePage);
                buf.copy_from_slice(&bytes);
                loaded = Some((input.path.clone(), buf));
            }
            Ok(xor(&loaded.as_ref().expect("just loaded").1))
        })
    }

    /// `open` + `read()` into a reused buffer of `buffer` bytes, the kernel
    /// over each part.
    pub fn read(buffer: usize) -> Method<'a> {
        let mut buf = vec![0u8; buffer.max(1)];
        Method::new(READ, move |input| {
            let mut f = File::open(&input.path)?;
            let mut x = 0;
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    return Ok(x);
                }
                x ^= xor(&buf[..n]);
            }
        })
    }

    /// The whole file read into a new `Vec` (`std::fs::read`: `open`,
    /// `fstat`, `read()` to end of file) + the kernel + free: what reading
    /// costs a caller who needs all of the bytes at once, as [`Source`]
    /// holds them.
    ///
    /// [`Source`]: xmmap::Source
    pub fn read_to_vec() -> Method<'a> {
        Method::new(READ_TO_VEC, |input| Ok(xor(&std::fs::read(&input.path)?)))
    }

    /// `open` + [`xmmap::SourceOptions::open`] with `options` (mapped or
    /// read, as the options decide) + the kernel + drop.
    pub fn xmmap_source(name: impl Into<String>, options: xmmap::SourceOptions) -> Method<'a> {
        Method::new(name, move |input| {
            // SAFETY: see the module's # Safety: nobody changes the file.
            let src = unsafe { options.open(&input.path) }?;
            Ok(xor(&src))
        })
    }

    /// `open` + a plain xmmap map of the whole file + the kernel + unmap.
    pub fn xmmap_map() -> Method<'a> {
        Method::new(MAP, |input| {
            let f = File::open(&input.path)?;
            // SAFETY: see the module's # Safety: nobody changes the file.
            let map = unsafe { xmmap::MapOptions::new().map(&f) }?;
            Ok(xor(&map))
        })
    }

    /// `open` + the fast path [`xmmap::ScanOptions::scan`] with `options`.
    pub fn xmmap_scan(name: impl Into<String>, options: xmmap::ScanOptions) -> Method<'a> {
        Method::new(name, move |input| {
            let f = File::open(&input.path)?;
            let mut x = 0;
            // SAFETY: see the module's # Safety: nobody changes the file.
            unsafe { options.scan(&f, |chunk| x ^= xor(chunk)) }?;
            Ok(x)
        })
    }
}
