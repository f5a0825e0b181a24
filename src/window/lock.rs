//! The cache's readers-writer lock, striped by thread: a reader locks only
//! its own thread's stripe, a writer locks every stripe. So readers on
//! different threads (a hit) write no cache line another reader writes,
//! where one `RwLock`'s reader count would bounce between them on every
//! read; a writer (a miss that maps, `open`, `close`) pays one lock per
//! stripe, beside the system calls it makes anyway.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many stripes the lock and the hit counters have: more than the
/// threads that are likely to hit at once.
pub(super) const STRIPES: usize = 16;

/// This thread's stripe, chosen once per thread, round robin, so that up to
/// [`STRIPES`] threads started one after another have one each.
pub(super) fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local!(static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES);
    MINE.with(|&i| i)
}

/// One stripe, on a cache line (pair) of its own.
#[derive(Default)]
#[repr(align(128))]
struct Stripe(RwLock<()>);

/// A `T` that readers share and a writer has alone, as in `RwLock<T>`.
pub(super) struct StripedLock<T> {
    stripes: [Stripe; STRIPES],
    value: UnsafeCell<T>,
}

// SAFETY: as for `RwLock<T>`: readers on many threads share `&T` (so `T:
// Sync`), and a writer on any thread gets `&mut T` (so `T: Send`); the
// stripes make the two exclusive (see `read` and `write`).
unsafe impl<T: Send + Sync> Sync for StripedLock<T> {}

impl<T> StripedLock<T> {
    pub(super) fn new(value: T) -> StripedLock<T> {
        StripedLock { stripes: Default::default(), value: UnsafeCell::new(value) }
    }

    /// The value shared, while this thread's stripe is held for reading. A
    /// thread must not take it twice (a writer waiting between the two
    /// would deadlock it), as with `RwLock`.
    pub(super) fn read(&self) -> ReadGuard<'_, T> {
        // The state is consistent between statements that can panic, so a
        // poisoned stripe is still usable.
        let guard = self.stripes[stripe()].0.read().unwrap_or_else(PoisonError::into_inner);
        ReadGuard { lock: self, _stripe: guard }
    }

    /// The value alone, while every stripe is held for writing (taken in
    /// one order by every writer, so two writers cannot deadlock).
    pub(super) fn write(&self) -> WriteGuard<'_, T> {
        let guards = std::array::from_fn(|i| {
            self.stripes[i].0.write().unwrap_or_else(PoisonError::into_inner)
        });
        WriteGuard { lock: self, _stripes: guards }
    }
}

/// [`StripedLock::read`]'s guard.
pub(super) struct ReadGuard<'a, T> {
    lock: &'a StripedLock<T>,
    _stripe: RwLockReadGuard<'a, ()>,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: one stripe is held for reading, so no writer (which holds
        // them all) has `&mut T` while this guard, and the borrow, live.
        unsafe { &*self.lock.value.get() }
    }
}

/// [`StripedLock::write`]'s guard.
pub(super) struct WriteGuard<'a, T> {
    lock: &'a StripedLock<T>,
    _stripes: [RwLockWriteGuard<'a, ()>; STRIPES],
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: every stripe is held for writing: no reader and no other
        // writer exists while this guard lives.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow the only one.
        unsafe { &mut *self.lock.value.get() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_on_many_threads_and_writers_see_one_value() {
        let lock = StripedLock::new(0u64);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        *lock.write() += 1;
                        let v = *lock.read();
                        assert!(v >= 1);
                    }
                });
            }
        });
        assert_eq!(*lock.read(), 4000);
    }
}
