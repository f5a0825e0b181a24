//! The mapping types and the [`MapOptions`] builder.
//!
//! One inner type, [`Inner`], owns a mapping (base pointer, kernel length,
//! the offset from the page boundary to the first byte handed out) and does
//! every range check, advice, flush, protection change, resize, split and the
//! unmap. [`Map`], [`MapMut`] and [`MapRaw`] are thin faces over it that
//! decide what a caller may do, not how it is done. The one other owner,
//! `ChunkedMap`, holds a file mapped chunk by chunk into one reserved range
//! for [`scan`](crate::scan()). No module outside this one maps, unmaps,
//! resizes, protects or advises memory.
//!
//! May call: `sys`, `page`, `limit`, `error`.
//!
//! # Safety
//!
//! `Inner` is the only owner of its address range: it is created from a
//! successful `mmap` (or is empty, with no range at all), never copied, and
//! unmapped exactly once, on drop or by [`Inner::unmap`]. Every pointer it
//! hands out lies in `base..base + map_len`. Range checks run before every
//! system call that takes a sub-range. Whether a `&[u8]` into the range is
//! sound is the public constructors' business (see their `# Safety`).
#![allow(unsafe_code)]

mod advice;
mod chunked;
mod errors;
mod options;
mod plan;
mod types;

use std::ptr::NonNull;

#[cfg_attr(not(all(unix, feature = "memmap2-compat")), allow(unused_imports))]
// used by compat only
pub(crate) use advice::known as advice_known;
pub use advice::{Advice, UncheckedAdvice};
pub(crate) use chunked::ChunkedMap;
pub use options::MapOptions;
pub use types::{Map, MapMut, MapRaw, Protection, RemapOptions};

use errors::{lock_error, os_error, unbacked};

use crate::error::{Error, ErrorKind, Result};
use crate::page::{align_down, page_size};
use crate::sys::{self, Errno, Madv};

/// The one owner of a mapping.
pub(crate) struct Inner {
    /// Start of the kernel mapping (page or huge page aligned); dangling when
    /// `map_len == 0`.
    base: NonNull<u8>,
    /// Bytes of the kernel mapping: what `munmap` receives.
    map_len: usize,
    /// Bytes from `base` to the first byte handed out.
    delta: usize,
    /// Bytes handed out.
    len: usize,
    /// The page size this mapping is made of (larger for hugetlb).
    granule: usize,
}

// SAFETY: `Inner` owns its range like a `Box<[u8]>` owns its buffer; the
// faces decide what access they hand out (`&[u8]`, `&mut [u8]`, raw
// pointers), each of which is as thread-safe as the corresponding slice.
unsafe impl Send for Inner {}
// SAFETY: shared access through `&Inner` only reads the fields or makes
// system calls that the kernel serialises.
unsafe impl Sync for Inner {}

impl Inner {
    /// A map of no bytes: no system call, nothing to unmap (git does the same).
    pub(crate) fn empty() -> Inner {
        Inner { base: NonNull::dangling(), map_len: 0, delta: 0, len: 0, granule: page_size() }
    }

    /// # Safety
    /// - `base..base + map_len` must be a mapping that the new `Inner` owns.
    unsafe fn from_raw(
        base: *mut u8,
        map_len: usize,
        delta: usize,
        len: usize,
        granule: usize,
    ) -> Inner {
        debug_assert!(delta + len <= map_len);
        Inner {
            base: NonNull::new(base).expect("mmap returned a null mapping"),
            map_len,
            delta,
            len,
            granule,
        }
    }

    #[inline]
    pub(crate) fn ptr(&self) -> *mut u8 {
        if self.map_len == 0 {
            return self.base.as_ptr();
        }
        // SAFETY: delta <= map_len, so the result stays inside the mapping.
        unsafe { self.base.as_ptr().add(self.delta) }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Page-aligned start (relative to `base`) and length covering `offset..offset+len`.
    fn check_range(&self, op: &str, offset: usize, len: usize) -> Result<(*mut u8, usize)> {
        let end = offset.checked_add(len).filter(|&e| e <= self.len).ok_or_else(|| {
            Error::invalid(format!(
                "{op}: range of {len} bytes at offset {offset} is outside the map of {} bytes",
                self.len
            ))
        })?;
        let start = self.delta + offset;
        let aligned = align_down(start as u64, self.granule as u64) as usize;
        // An empty range covers no page, wherever it starts.
        let span = if len == 0 { 0 } else { self.delta + end - aligned };
        // SAFETY: aligned <= start <= map_len.
        Ok((unsafe { self.base.as_ptr().add(aligned) }, span))
    }

    pub(crate) fn flush(&self, offset: usize, len: usize, sync: bool) -> Result<()> {
        let op = if sync { "flush" } else { "flush_async" };
        let (ptr, span) = self.check_range(op, offset, len)?;
        if span == 0 || self.map_len == 0 {
            return Ok(());
        }
        // SAFETY: the range lies in our mapping and starts on a page boundary.
        unsafe { sys::msync(ptr, span, sync) }
            .map_err(|e| os_error(e, &format!("msync of {len} bytes at map offset {offset}"), None))
    }

    /// # Safety
    /// - Advice that changes contents must not be given while references into
    ///   the range rely on them.
    pub(crate) unsafe fn advise(&self, advice: Madv, offset: usize, len: usize) -> Result<()> {
        let (ptr, span) = self.check_range("advise", offset, len)?;
        if span == 0 || self.map_len == 0 {
            return Ok(());
        }
        // SAFETY: the range is ours; the caller accepts the advice's effect.
        unsafe { sys::madvise(ptr, span, advice) }.map_err(|e| {
            let what = format!("madvise({}) of {len} bytes at map offset {offset}", advice.name());
            if unbacked(&e, advice) {
                // The kernel's "a SIGBUS would have been raised": a page the
                // file no longer backs. Say which, as guarded access does.
                let lost = self.first_unbacked(ptr, span, advice).max(offset as u64);
                return Error::with_source(
                    ErrorKind::Truncated { offset: lost },
                    format!(
                        "{what}: the file no longer backs map offset {lost} (it was truncated \
                         under the map; check the file's size and who shrinks it)"
                    ),
                    e,
                );
            }
            os_error(e, &what, None)
        })
    }

    /// The map offset of the first page in `ptr..ptr + span` (a range of
    /// this map) that `advice` (a populate) cannot fault in.
    fn first_unbacked(&self, ptr: *mut u8, span: usize, advice: Madv) -> u64 {
        // SAFETY: `ptr..ptr + span` passed `check_range`: it is ours.
        let backed = unsafe { backed_prefix(ptr, span, self.granule, advice) };
        let page = ptr as usize - self.base.as_ptr() as usize + backed;
        page.saturating_sub(self.delta) as u64
    }

    pub(crate) fn lock(&self, offset: usize, len: usize) -> Result<()> {
        let (ptr, span) = self.check_range("lock", offset, len)?;
        if span == 0 || self.map_len == 0 {
            return Ok(());
        }
        // SAFETY: the range lies in our mapping; mlock does not change contents.
        unsafe { sys::mlock(ptr, span) }.map_err(|e| lock_error(e, span as u64))
    }

    pub(crate) fn unlock(&self, offset: usize, len: usize) -> Result<()> {
        let (ptr, span) = self.check_range("unlock", offset, len)?;
        if span == 0 || self.map_len == 0 {
            return Ok(());
        }
        // SAFETY: the range lies in our mapping; munlock does not change contents.
        unsafe { sys::munlock(ptr, span) }.map_err(|e| {
            os_error(e, &format!("munlock of {len} bytes at map offset {offset}"), None)
        })
    }

    /// # Safety
    /// - No reference into the mapping may rely on access the new protection
    ///   removes.
    pub(crate) unsafe fn protect(&self, prot: u32) -> Result<()> {
        if self.map_len == 0 {
            return Ok(());
        }
        // SAFETY: the whole mapping is ours; the caller vouches for references.
        unsafe { sys::mprotect(self.base.as_ptr(), self.map_len, prot) }.map_err(|e| {
            os_error(
                e,
                &format!("mprotect to {} of a {}-byte map", Protection::from_bits(prot), self.len),
                None,
            )
        })
    }

    /// Resizes the mapping to `new_len` bytes handed out.
    ///
    /// # Safety
    /// - No reference into the mapping may outlive the call.
    pub(crate) unsafe fn remap(&mut self, new_len: usize, may_move: bool) -> Result<()> {
        if self.map_len == 0 {
            return Err(Error::invalid(format!(
                "remap to {new_len} bytes: an empty map has no mapping to resize; create a new map"
            )));
        }
        let total =
            self.delta.checked_add(new_len).filter(|&t| t <= isize::MAX as usize).ok_or_else(
                || {
                    Error::invalid(format!(
                        "remap to {new_len} bytes: the length overflows (more than isize::MAX)"
                    ))
                },
            )?;
        if new_len == 0 {
            // mremap refuses a zero length: unmap and become empty instead.
            let old = std::mem::replace(self, Inner::empty());
            return old.unmap();
        }
        let total = if self.granule > page_size() {
            crate::page::align_up(total as u64, self.granule as u64)
                .filter(|&t| t <= isize::MAX as u64)
                .ok_or_else(|| Error::invalid(format!("remap to {new_len} bytes overflows")))?
                as usize
        } else {
            total
        };
        // SAFETY: we own base..base+map_len; the caller holds no references.
        let p = unsafe { sys::mremap(self.base.as_ptr(), self.map_len, total, may_move) }.map_err(
            |e| {
                if Errno::of(&e) == Some(Errno::FAULT) {
                    return Error::with_source(
                        ErrorKind::InvalidInput,
                        format!(
                            "mremap from {} to {new_len} bytes: the map is no longer one kernel \
                             mapping (advice, a lock or a protection change on part of it split \
                             it); mremap can resize only a whole mapping",
                            self.len
                        ),
                        e,
                    );
                }
                os_error(
                    e,
                    &format!(
                        "mremap from {} to {} bytes{}",
                        self.len,
                        new_len,
                        if may_move { "" } else { " in place (may_move is off)" }
                    ),
                    None,
                )
            },
        )?;
        self.base = NonNull::new(p).expect("mremap returned null");
        self.map_len = total;
        self.len = new_len;
        Ok(())
    }

    /// Splits at `at` bytes; the split point must fall on a page boundary.
    pub(crate) fn split_at(mut self, at: usize) -> Result<(Inner, Inner)> {
        if at > self.len {
            return Err(Error::invalid(format!(
                "split_at({at}): the map has only {} bytes",
                self.len
            )));
        }
        if at == self.len {
            return Ok((self, Inner::empty()));
        }
        if at == 0 {
            return Ok((Inner::empty(), self));
        }
        let cut = self.delta + at;
        if cut % self.granule != 0 {
            return Err(Error::invalid(format!(
                "split_at({at}): the split must fall on a page boundary (page size {}, the map \
                 starts {} bytes into its first page)",
                self.granule, self.delta
            )));
        }
        // SAFETY: cut < map_len, so the tail starts inside our mapping; from
        // here the two halves own disjoint ranges.
        let tail_base = unsafe { self.base.as_ptr().add(cut) };
        let tail = Inner {
            base: NonNull::new(tail_base).expect("inside a mapping"),
            map_len: self.map_len - cut,
            delta: 0,
            len: self.len - at,
            granule: self.granule,
        };
        self.map_len = cut;
        self.len = at;
        Ok((self, tail))
    }

    /// Unmaps now and reports the error.
    pub(crate) fn unmap(self) -> Result<()> {
        let this = std::mem::ManuallyDrop::new(self);
        if this.map_len == 0 {
            return Ok(());
        }
        // SAFETY: we own the mapping and are consumed; nothing refers to it.
        unsafe { sys::munmap(this.base.as_ptr(), this.map_len) }
            .map_err(|e| os_error(e, &format!("munmap of {} bytes", this.map_len), None))
    }

    /// The kernel mapping: base address, bytes, and the offset of the first
    /// byte handed out (for residency and guarded access).
    #[allow(dead_code)] // for residency and guarded access
    pub(crate) fn raw_parts(&self) -> (*mut u8, usize, usize) {
        (self.base.as_ptr(), self.map_len, self.delta)
    }

    pub(crate) fn granule(&self) -> usize {
        self.granule
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.map_len != 0 {
            // SAFETY: we own the mapping and are being dropped; nothing refers
            // to it any more. An error here cannot be reported: use `unmap`.
            let _ = unsafe { sys::munmap(self.base.as_ptr(), self.map_len) };
        }
    }
}

/// Bytes at the start of `ptr..ptr + span` that `advice` (a populate) can
/// fault in, in whole pages of `granule` bytes, when populating the whole
/// range failed: found by halving, since populating a prefix succeeds
/// exactly when every page of it is backed, and the pages before the first
/// lost one are populated already. The one search for the first page a
/// shrunk file no longer backs, for [`Inner`] and [`ChunkedMap`].
///
/// # Safety
/// - `ptr..ptr + span` must be a mapping of the caller's, made of pages of
///   `granule` bytes, starting on a page boundary.
pub(super) unsafe fn backed_prefix(
    ptr: *mut u8,
    span: usize,
    granule: usize,
    advice: Madv,
) -> usize {
    let pages = span.div_ceil(granule);
    let (mut ok, mut bad) = (0, pages);
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        // SAFETY: a prefix of a range of the caller's; populating changes no
        // contents.
        match unsafe { sys::madvise(ptr, mid * granule, advice) } {
            Ok(()) => ok = mid,
            Err(_) => bad = mid,
        }
    }
    ok * granule
}
