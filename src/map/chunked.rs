//! A file mapped chunk by chunk into one reserved, aligned range of address
//! space: the mapping behind [`scan`](crate::scan()).
//!
//! # Safety
//!
//! The reserved range is owned by one [`ChunkedMap`] from the `mmap` that
//! creates it to the `munmap` that ends it; the file is mapped over it with
//! `MAP_FIXED` (only inside the reservation, all at once or chunk by chunk,
//! each range once), and each chunk, a disjoint sub-range, is released
//! exactly once, in order. The map keeps the prefix that has been released
//! (or handed to another thread to release) and unmaps only the rest, so no
//! range is unmapped after it was given back to the kernel.

use std::fs::File;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::backed_prefix;
use super::errors::{os_error, unbacked};
use crate::error::{Error, ErrorKind, Result};
use crate::page::{align_up, human, page_size};
use crate::sys::{self, flags, prot, Errno, Madv};

/// A read-only shared map of a file in chunks: chunk `k` covers file bytes
/// `k * chunk .. min((k + 1) * chunk, size)`, mapped at `base + k * chunk`.
/// Chunks are released in order; whatever is not released is unmapped on
/// drop.
pub(crate) struct ChunkedMap {
    base: usize,
    size: usize,
    span: usize,
    chunk: usize,
    chunks: usize,
    /// The alignment of the reservation, and the most populated at once.
    align: usize,
    /// Whether the whole file is mapped already, so that preparing a chunk
    /// is only populating it.
    premapped: bool,
    /// End of the prefix given back: unmapped, or handed to whoever
    /// releases it. Drop unmaps only what follows.
    released: AtomicUsize,
}

impl ChunkedMap {
    /// The page-rounded span and the chunk count of a file of `size` bytes
    /// in chunks of `chunk` bytes.
    pub(crate) fn layout(size: usize, chunk: usize) -> (usize, usize) {
        let span = align_up(size as u64, page_size() as u64).unwrap_or(0) as usize;
        (span, span.div_ceil(chunk))
    }

    /// Maps `file` (`size` bytes, not empty) in chunks of `chunk` bytes, a
    /// multiple of `align`. With `whole` the file is mapped at once (the
    /// limit allows it); otherwise [`prepare`](Self::prepare) maps each
    /// chunk. Under one `align` the kernel places the one chunk.
    pub(crate) fn new(
        file: &File,
        size: usize,
        chunk: usize,
        align: usize,
        whole: bool,
    ) -> Result<ChunkedMap> {
        let (span, chunks) = ChunkedMap::layout(size, chunk);
        let make = |base, premapped| ChunkedMap {
            base,
            size,
            span,
            chunk,
            chunks,
            align,
            premapped,
            released: AtomicUsize::new(0),
        };
        if span < align {
            // SAFETY: no MAP_FIXED: the kernel picks free address space.
            let base = unsafe { sys::mmap(0, span, prot::READ, flags::SHARED, Some(file), 0) }
                .map_err(|e| {
                    os_error(e, &format!("scan: mmap of {span} bytes at offset 0"), None)
                })?;
            return Ok(make(base as usize, true));
        }
        let this = make(reserve(span, align)?, whole);
        if whole {
            this.map(file, 0, span)?;
        }
        Ok(this)
    }

    /// Chunks in the map.
    pub(crate) fn chunks(&self) -> usize {
        self.chunks
    }

    /// End of chunk `k` in the reservation (page aligned).
    fn end(&self, k: usize) -> usize {
        ((k + 1) * self.chunk).min(self.span)
    }

    /// Makes chunk `k` readable: maps it (unless the whole file is mapped)
    /// and populates it.
    pub(crate) fn prepare(&self, file: &File, k: usize) -> Result<()> {
        if !self.premapped {
            let start = k * self.chunk;
            self.map(file, start, self.end(k) - start)?;
        }
        self.populate(file, k)
    }

    /// Maps file bytes `start..start + len` (page aligned) at the same
    /// offset of the reservation.
    fn map(&self, file: &File, start: usize, len: usize) -> Result<()> {
        let addr = self.base + start;
        // SAFETY: addr..addr+len lies in the reservation, which we own; it
        // is still reserved (ranges are mapped once, in order, before they
        // are released), so MAP_FIXED replaces only our own PROT_NONE
        // placeholder.
        unsafe {
            sys::mmap(addr, len, prot::READ, flags::SHARED | flags::FIXED, Some(file), start as u64)
        }
        .map(|_| ())
        .map_err(|e| os_error(e, &format!("scan: mmap of {len} bytes at offset {start}"), None))
    }

    /// Populates chunk `k`, which is mapped: page tables filled now, and a
    /// page the file no longer backs is an error instead of a later SIGBUS.
    /// Populating twice is harmless, so the reader and a helper thread may
    /// both do it.
    pub(crate) fn populate(&self, file: &File, k: usize) -> Result<()> {
        let start = k * self.chunk;
        let len = self.end(k) - start;
        let addr = self.base + start;
        let advice = Madv::PopulateRead;
        // In pieces of one alignment unit (a huge page): populating holds
        // the mmap lock for reading, and the other thread's mmap or munmap
        // waits for it.
        // On failure, the offset in the chunk of the piece that failed.
        let populate = || {
            let mut done = 0;
            while done < len {
                let n = (len - done).min(self.align);
                // SAFETY: the range is our mapping; populating changes no
                // contents.
                unsafe { sys::madvise((addr + done) as *mut u8, n, advice) }
                    .map_err(|e| (done, n, e))?;
                done += n;
            }
            Ok(())
        };
        match populate() {
            Ok(()) => Ok(()),
            Err((done, n, e)) if unbacked(&e, advice) => {
                // SAFETY: the piece is our mapping, of base pages, page aligned.
                let backed =
                    unsafe { backed_prefix((addr + done) as *mut u8, n, page_size(), advice) };
                Err(self.truncated(file, start, start + done + backed, e))
            }
            // A kernel before 5.14 (or another platform) has no
            // MADV_POPULATE_READ: the pages fault in as they are read; check
            // the size instead.
            Err((_, _, e))
                if Errno::of(&e) == Some(Errno::INVAL)
                    || e.kind() == std::io::ErrorKind::Unsupported =>
            {
                let now = sys::fstat(file).map(|i| i.size).unwrap_or(0);
                if now < (start + len).min(self.size) as u64 {
                    // The page holding the new end is still backed.
                    let lost = align_up(now, page_size() as u64).unwrap_or(now) as usize;
                    return Err(self.truncated(file, start, lost.max(start), e));
                }
                Ok(())
            }
            Err((_, _, e)) => Err(os_error(
                e,
                &format!("scan: madvise(MADV_POPULATE_READ) of {len} bytes at offset {start}"),
                None,
            )),
        }
    }

    /// The file shrank under chunk `start..`: `lost` is the offset of the
    /// first page it no longer backs.
    fn truncated(&self, file: &File, start: usize, lost: usize, e: std::io::Error) -> Error {
        let now = sys::fstat(file).map_or_else(|_| "unknown".to_string(), |i| i.size.to_string());
        Error::with_source(
            ErrorKind::Truncated { offset: lost as u64 },
            format!(
                "scan: the file shrank from {} bytes to {now} during the scan; it no longer \
                 backs offset {lost}, in the chunk at offset {start} (check who truncates the \
                 file)",
                self.size
            ),
            e,
        )
    }

    /// The bytes of chunk `k`.
    ///
    /// # Safety
    /// - Chunk `k` must be prepared (or populated) and not yet released, and
    ///   the file unchanged while the slice lives.
    pub(crate) unsafe fn bytes<'a>(&self, k: usize) -> &'a [u8] {
        let start = k * self.chunk;
        let len = ((k + 1) * self.chunk).min(self.size) - start;
        // SAFETY: the chunk is mapped readable for at least `len` bytes;
        // the caller vouches for the file and the slice's lifetime.
        unsafe { std::slice::from_raw_parts((self.base + start) as *const u8, len) }
    }

    /// Unmaps chunk `k`, which nobody reads any more, and marks it given
    /// back. Each chunk is released once, in order.
    pub(crate) fn release(&self, k: usize) -> Result<()> {
        let start = k * self.chunk;
        let len = self.end(k) - start;
        // SAFETY: chunk k is ours and the reader is done with it; it is
        // released once (drop forgets it after this).
        unsafe { sys::munmap((self.base + start) as *mut u8, len) }.map_err(|e| {
            os_error(e, &format!("scan: munmap of {len} bytes at offset {start}"), None)
        })?;
        self.hand_off(k);
        Ok(())
    }

    /// Marks chunk `k` given back without unmapping it: another thread
    /// [`release`](Self::release)s it before the map is dropped.
    pub(crate) fn hand_off(&self, k: usize) {
        // Relaxed: drop reads it only after the other threads are joined.
        self.released.fetch_max(self.end(k), Ordering::Relaxed);
    }
}

/// Reserves `span` bytes of address space (`PROT_NONE`) starting at a
/// multiple of `align`; returns the aligned base.
fn reserve(span: usize, align: usize) -> Result<usize> {
    let page = page_size();
    let want = span.checked_add(align - page).ok_or_else(|| {
        Error::invalid(format!("scan: reserving {span} bytes of address space overflows"))
    })?;
    let anon = flags::PRIVATE | flags::ANONYMOUS | flags::NORESERVE;
    // SAFETY: no MAP_FIXED: the kernel picks free address space.
    let raw = unsafe { sys::mmap(0, want, prot::NONE, anon, None, 0) }.map_err(|e| {
        os_error(e, &format!("scan: reserving {} of address space", human(want as u64)), None)
    })? as usize;
    let base = align_up(raw as u64, align as u64).unwrap_or(raw as u64) as usize;
    let head = base - raw;
    let tail = want - head - span;
    let trim = |addr: usize, len: usize| {
        if len == 0 {
            return Ok(());
        }
        // SAFETY: addr..addr+len is slack of our own reservation, never
        // handed out.
        unsafe { sys::munmap(addr as *mut u8, len) }
    };
    // Trimming the edge of a mapping fails only for lack of memory; then
    // give back what is still ours (never a range already released,
    // which another thread may have mapped since).
    if let Err(e) = trim(raw, head) {
        // SAFETY: nothing of the reservation was released yet.
        let _ = unsafe { sys::munmap(raw as *mut u8, want) };
        return Err(os_error(e, "scan: trimming the reserved address space", None));
    }
    if let Err(e) = trim(base + span, tail) {
        // SAFETY: only the head slack was released; base.. is ours.
        let _ = unsafe { sys::munmap(base as *mut u8, want - head) };
        return Err(os_error(e, "scan: trimming the reserved address space", None));
    }
    Ok(base)
}

impl Drop for ChunkedMap {
    fn drop(&mut self) {
        let released = *self.released.get_mut();
        let rest = self.span - released;
        if rest != 0 {
            // SAFETY: base+released..base+span is still ours: chunks are
            // released in order and `released` marks the end of the last
            // one given back. Nothing refers to it any more.
            let _ = unsafe { sys::munmap((self.base + released) as *mut u8, rest) };
        }
    }
}
