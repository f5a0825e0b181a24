//! [`WindowCursor`]: one file read through one pinned window at a time,
//! its hits served without the cache's lock.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::geometry::serves_until;
use super::state::{beyond_end, copy_out, Window};
use super::{read_loop, WindowCache, WindowFile};
use crate::error::Result;

/// A reader of one file of a [`WindowCache`] that pins one window at a
/// time (git's `inuse_cnt`) and lends slices of it without taking the
/// cache's lock. Moving to another window takes the lock once; the window
/// left behind may then be evicted. Made by the `unsafe`
/// [`WindowCache::cursor`].
///
/// # Examples
///
/// See [`WindowCache`].
pub struct WindowCursor<'a> {
    cache: &'a WindowCache,
    file: WindowFile,
    win: Option<Arc<Window>>,
    /// The pinned window's first byte and length, copied out of `win` so
    /// that a hit is a compare and an add (dangling and 0 with no window).
    base: *const u8,
    len: usize,
    /// The pinned window starts at `start` and serves `start..start + span`
    /// (empty when none is pinned).
    start: u64,
    span: u64,
    /// Hits served from the pinned window, not yet added to the cache's.
    hits: u64,
}

// SAFETY: `base` points into the window that `win` keeps mapped; the cursor
// reads through it only as `&[u8]` borrowed from the cursor, and a window
// (a read-only `MapRaw`) may be read from any thread.
unsafe impl Send for WindowCursor<'_> {}
// SAFETY: as for Send; `&WindowCursor` gives no access to the bytes at all.
unsafe impl Sync for WindowCursor<'_> {}

impl fmt::Debug for WindowCursor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowCursor")
            .field("file", &self.file)
            .field("window", &self.window())
            .finish()
    }
}

impl<'a> WindowCursor<'a> {
    /// A cursor over `file` of `cache` with no window pinned.
    pub(super) fn new(cache: &'a WindowCache, file: WindowFile) -> WindowCursor<'a> {
        WindowCursor {
            cache,
            file,
            win: None,
            base: std::ptr::NonNull::dangling().as_ptr(),
            len: 0,
            start: 0,
            span: 0,
            hits: 0,
        }
    }
}

impl WindowCursor<'_> {
    /// The bytes of the file from `offset` to the end of the window that
    /// holds it: at least `overlap` bytes unless the file ends sooner. The
    /// cursor moves to (and pins) another window when the one it holds does
    /// not serve `offset`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an offset at or beyond the end of the
    /// file (git's "offset beyond end of packfile"); the errors of
    /// [`WindowCache::read_at`] when a window must be mapped.
    #[inline]
    pub fn at(&mut self, offset: u64) -> Result<&[u8]> {
        if offset.wrapping_sub(self.start) < self.span {
            self.hits += 1;
        } else {
            self.switch(offset)?;
        }
        let rel = (offset - self.start) as usize;
        // SAFETY: the pinned window serves `offset`, so `rel < len` and the
        // range lies in the mapping, which `win` keeps alive while the
        // slice borrows the cursor; the file is left alone by the promise
        // made to `WindowCache::cursor`.
        Ok(unsafe { std::slice::from_raw_parts(self.base.add(rel), self.len - rel) })
    }

    /// Copies bytes from `offset` into `buf` through this cursor's windows
    /// and returns how many (fewer at the end of the file, 0 at its end),
    /// like [`WindowCache::read_at`] but keeping the last window pinned.
    ///
    /// # Errors
    ///
    /// As [`WindowCache::read_at`].
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let (cache, file) = (self.cache, self.file);
        read_loop(cache, file, offset, buf, |pos, buf| {
            if pos.wrapping_sub(self.start) < self.span {
                self.hits += 1;
            } else {
                self.switch(pos)?;
            }
            let Some(win) = &self.win else { unreachable!("a successful switch pins a window") };
            copy_out(win, pos, buf)
        })
    }

    /// The file this cursor reads.
    pub fn file(&self) -> WindowFile {
        self.file
    }

    /// The pinned window as `(file offset, length)`, if any.
    pub fn window(&self) -> Option<(u64, usize)> {
        self.win.as_ref().map(|w| (w.start, w.raw.len()))
    }

    /// Unpins the window, so the cache may evict it.
    pub fn release(&mut self) {
        self.flush_hits();
        self.win = None;
        self.base = std::ptr::NonNull::dangling().as_ptr();
        self.len = 0;
        self.start = 0;
        self.span = 0;
    }

    fn flush_hits(&mut self) {
        if self.hits != 0 {
            self.cache.cursor_hits.fetch_add(self.hits, Ordering::Relaxed);
            self.hits = 0;
        }
    }

    #[cold]
    fn switch(&mut self, offset: u64) -> Result<()> {
        if offset >= self.file.len {
            let st = self.cache.read_lock();
            return Err(beyond_end(offset, &st.files[self.file.index]));
        }
        // Unpin first, as git's use_pack does, so the old window may make
        // room for the new one.
        self.release();
        let win = self.cache.pin(self.file, offset)?;
        let until = serves_until(win.start, win.raw.len(), self.file.len, self.cache.cfg.overlap);
        self.base = win.raw.as_ptr();
        self.len = win.raw.len();
        self.start = win.start;
        self.span = until - win.start;
        self.win = Some(win);
        Ok(())
    }
}

impl Drop for WindowCursor<'_> {
    fn drop(&mut self) {
        self.flush_hits();
    }
}
