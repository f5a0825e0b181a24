//! The ways to get a file's bytes into the scan [`kernel`](crate::kernel):
//! each is a named closure over an [`Input`], returning the kernel's result
//! (so that every method can be checked against the others).
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

use crate::kernel::xor;
use crate::timing::Input;

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

    /// The in-memory ceiling ("1.0"): the kernel over a resident heap
    /// buffer holding the input's bytes (loaded, and so touched, on the
    /// first call for each input; time it after a warm-up call).
    pub fn ceiling() -> Method<'a> {
        let mut loaded: Option<(PathBuf, Vec<u8>)> = None;
        Method::new("in-memory ceiling", move |input| {
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
        Method::new("ceiling, huge pages", move |input| {
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
        Method::new("read()", move |input| {
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
        Method::new("read() to Vec", |input| Ok(xor(&std::fs::read(&input.path)?)))
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
        Method::new("xmmap map", |input| {
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
