//! std I/O over mapped bytes: [`Reader`] implements [`Read`], [`Seek`] and
//! [`BufRead`] over a [`Map`], [`MapMut`], [`Source`] or any byte buffer,
//! plus positioned reads ([`Reader::read_at`]) that do not move the cursor.
//!
//! What a reader can read is a [`ByteSource`]: the bytes as one slice (for
//! `Read` and `BufRead`, which hand out slices of the map itself: no copy
//! for `fill_buf`) and a positioned read. For file maps, every positioned
//! read is the guarded copy of the [`guard`](crate::guard) layer, so it
//! returns an error instead of raising `SIGBUS` when the file was truncated.
//!
//! May call: `map`, `guard` (through the maps' `read_at`), `source`,
//! `error`.

use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::rc::Rc;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::map::{Map, MapMut, MapRaw};
use crate::source::Source;

/// Bytes a [`Reader`] can read: all at once as a slice, or a positioned
/// copy.
///
/// Implemented for the map types, [`Source`], `Vec<u8>`, `Box<[u8]>`,
/// `[u8]`, arrays, and through `&T`, `Box<T>`, `Rc<T>` and `Arc<T>`. For
/// a type of your own, implement [`as_slice`](Self::as_slice); the default
/// [`read_at`](Self::read_at) copies from it. [`MapRaw`] hands out no
/// slices and is not a `ByteSource`.
pub trait ByteSource {
    /// All the bytes.
    fn as_slice(&self) -> &[u8];

    /// Copies the bytes at `offset..` into `buf`, as many as fit and exist;
    /// returns how many (0 at or past the end), like `pread(2)`.
    ///
    /// # Errors
    ///
    /// None for memory buffers. For file maps, the guarded read's errors:
    /// [`ErrorKind::Truncated`](crate::ErrorKind::Truncated) when the file
    /// no longer backs the bytes, and
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when
    /// `offset + buf.len()` overflows `u64`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        Ok(copy_at(self.as_slice(), offset, buf))
    }
}

/// Copies what exists of `bytes[offset..]` into `buf`.
fn copy_at(bytes: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let Ok(start) = usize::try_from(offset) else { return 0 };
    let Some(rest) = bytes.get(start..) else { return 0 };
    let n = rest.len().min(buf.len());
    buf[..n].copy_from_slice(&rest[..n]);
    n
}

/// A map whose positioned reads go through [`read_mapped`].
#[derive(Clone, Copy)]
pub(crate) enum Mapped<'a> {
    Map(&'a Map),
    Mut(&'a MapMut),
    Raw(&'a MapRaw),
}

/// The one positioned read from a map: every [`ByteSource::read_at`] of a
/// [`Map`], a [`MapMut`] or a mapped [`Source`], and the page touches of
/// `populate` on kernels without `MADV_POPULATE_*`, come here. It is the
/// guarded `read_at` of the map types: a page the file no longer backs is
/// an [`ErrorKind::Truncated`](crate::ErrorKind::Truncated) error, not
/// `SIGBUS`.
pub(crate) fn read_mapped(map: Mapped<'_>, offset: u64, buf: &mut [u8]) -> Result<usize> {
    match map {
        Mapped::Map(m) => m.read_at(offset, buf),
        Mapped::Mut(m) => m.read_at(offset, buf),
        Mapped::Raw(m) => m.read_at(offset, buf),
    }
}

impl ByteSource for Map {
    fn as_slice(&self) -> &[u8] {
        self
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        read_mapped(Mapped::Map(self), offset, buf)
    }
}

impl ByteSource for MapMut {
    fn as_slice(&self) -> &[u8] {
        self
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        read_mapped(Mapped::Mut(self), offset, buf)
    }
}

impl ByteSource for Source {
    fn as_slice(&self) -> &[u8] {
        self
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        match self.as_map() {
            Some(m) => read_mapped(Mapped::Map(m), offset, buf),
            None => Ok(copy_at(self, offset, buf)),
        }
    }
}

impl ByteSource for [u8] {
    fn as_slice(&self) -> &[u8] {
        self
    }
}

impl<const N: usize> ByteSource for [u8; N] {
    fn as_slice(&self) -> &[u8] {
        self
    }
}

impl ByteSource for Vec<u8> {
    fn as_slice(&self) -> &[u8] {
        self
    }
}

/// Forwards both methods, so that a map behind a pointer keeps its
/// positioned read.
macro_rules! forward {
    ($($ptr:ty),*) => {$(
        impl<T: ByteSource + ?Sized> ByteSource for $ptr {
            fn as_slice(&self) -> &[u8] {
                (**self).as_slice()
            }
            fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
                (**self).read_at(offset, buf)
            }
        }
    )*};
}

forward!(&T, Box<T>, Rc<T>, Arc<T>);

/// A cursor over a [`ByteSource`]: [`Read`], [`Seek`] and [`BufRead`] with
/// the semantics of [`std::io::Cursor`] (seeking past the end is allowed
/// and reads nothing there; seeking before the start is an error), plus
/// [`read_at`](Self::read_at).
///
/// # Examples
///
/// ```
/// use std::io::{BufRead, Read, Seek, SeekFrom};
///
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-reader", std::process::id()));
/// # std::fs::write(&path, b"first line\nsecond line\n")?;
/// let file = std::fs::File::open(&path)?;
/// // SAFETY: nobody modifies or truncates the file while the map lives.
/// let map = unsafe { xmmap::Map::map(&file)? };
/// let mut reader = xmmap::Reader::new(map);
///
/// let mut line = String::new();
/// reader.read_line(&mut line)?;
/// assert_eq!(line, "first line\n");
///
/// reader.seek(SeekFrom::End(-5))?;
/// let mut tail = String::new();
/// reader.read_to_string(&mut tail)?;
/// assert_eq!(tail, "line\n");
///
/// let mut word = [0u8; 6];
/// assert_eq!(reader.read_at(11, &mut word)?, 6); // the cursor stays put
/// assert_eq!(&word, b"second");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Reader<T> {
    inner: T,
    pos: u64,
}

impl<T: ByteSource> Reader<T> {
    /// A reader at offset 0.
    pub fn new(inner: T) -> Reader<T> {
        Reader { inner, pos: 0 }
    }

    /// The cursor's offset.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Moves the cursor to `pos` (past the end is allowed).
    pub fn set_position(&mut self, pos: u64) {
        self.pos = pos;
    }

    /// The bytes read over.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The bytes read over, back.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The bytes from the cursor to the end (empty past the end).
    pub fn remaining_slice(&self) -> &[u8] {
        let bytes = self.inner.as_slice();
        let start = usize::try_from(self.pos).map_or(bytes.len(), |p| p.min(bytes.len()));
        &bytes[start..]
    }

    /// Copies the bytes at `offset..` into `buf` without moving the cursor;
    /// returns how many (short at the end, 0 past it), like `pread(2)`.
    ///
    /// # Errors
    ///
    /// As [`ByteSource::read_at`]: none for memory buffers; for file maps,
    /// the guarded read's error when the file no longer backs the bytes.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.inner.read_at(offset, buf)
    }
}

impl<T: ByteSource> Read for Reader<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = copy_at(self.remaining_slice(), 0, buf);
        self.pos += n as u64;
        Ok(n)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let rest = self.remaining_slice();
        if rest.len() < buf.len() {
            // As Cursor: an early end leaves the cursor at the end.
            self.pos = self.inner.as_slice().len() as u64;
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "failed to fill whole buffer",
            ));
        }
        buf.copy_from_slice(&rest[..buf.len()]);
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let rest = self.remaining_slice();
        let n = rest.len();
        buf.try_reserve(n).map_err(|_| {
            io::Error::from(Error::new(
                crate::ErrorKind::OutOfMemory,
                format!("read_to_end: no memory for {n} more bytes"),
            ))
        })?;
        buf.extend_from_slice(rest);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<T: ByteSource> BufRead for Reader<T> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.remaining_slice())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = self.pos.saturating_add(amt as u64);
    }
}

impl<T: ByteSource> Seek for Reader<T> {
    fn seek(&mut self, style: SeekFrom) -> io::Result<u64> {
        let (base, delta) = match style {
            SeekFrom::Start(n) => {
                self.pos = n;
                return Ok(n);
            }
            SeekFrom::End(d) => (self.inner.as_slice().len() as u64, d),
            SeekFrom::Current(d) => (self.pos, d),
        };
        match base.checked_add_signed(delta) {
            Some(n) => {
                self.pos = n;
                Ok(n)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid seek to a negative or overflowing position",
            )),
        }
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    use crate::testutil::Rng;

    fn same<T: std::fmt::Debug + PartialEq>(a: io::Result<T>, b: io::Result<T>, what: &str) {
        match (a, b) {
            (Ok(x), Ok(y)) => assert_eq!(x, y, "{what}"),
            (Err(x), Err(y)) => assert_eq!(x.kind(), y.kind(), "{what}"),
            (x, y) => panic!("{what}: reader {x:?}, cursor {y:?}"),
        }
    }

    /// Runs random operations on a Reader and a Cursor over the same bytes
    /// and demands the same results and positions.
    fn against_cursor<T: ByteSource>(data: &[u8], make: impl Fn() -> T, seed: u64) {
        let mut rng = Rng(seed | 1);
        let mut r = Reader::new(make());
        let mut c = Cursor::new(data.to_vec());
        let len = data.len() as u64;
        for step in 0..2000 {
            let what = format!("seed {seed} step {step}");
            match rng.below(9) {
                0 => {
                    let n = rng.below(len + 10) as usize;
                    let (mut a, mut b) = (vec![0; n], vec![0; n]);
                    same(r.read(&mut a), c.read(&mut b), &what);
                    assert_eq!(a, b, "{what}");
                }
                1 => {
                    let n = rng.below(len / 2 + 4) as usize;
                    let (mut a, mut b) = (vec![0; n], vec![0; n]);
                    same(r.read_exact(&mut a), c.read_exact(&mut b), &what);
                    assert_eq!(a, b, "{what}");
                }
                2 => {
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    same(r.read_until(b'\n', &mut a), c.read_until(b'\n', &mut b), &what);
                    assert_eq!(a, b, "{what}");
                }
                3 => {
                    let s = match rng.below(3) {
                        0 => SeekFrom::Start(rng.below(len + 20)),
                        1 => SeekFrom::End(rng.below(len + 20) as i64 - len as i64 - 10),
                        _ => SeekFrom::Current(rng.below(2 * len + 20) as i64 - len as i64 - 10),
                    };
                    same(r.seek(s), c.seek(s), &what);
                }
                4 => {
                    let a = r.fill_buf().map(<[u8]>::to_vec);
                    let b = c.fill_buf().map(<[u8]>::to_vec);
                    same(a, b, &what);
                    let amt = rng.below(len + 4) as usize;
                    let avail = r.remaining_slice().len();
                    // BufRead::consume past what fill_buf gave is a
                    // contract breach; stay within it.
                    r.consume(amt.min(avail));
                    c.consume(amt.min(avail));
                }
                5 => {
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    same(r.read_to_end(&mut a), c.read_to_end(&mut b), &what);
                    assert_eq!(a, b, "{what}");
                }
                6 => {
                    let off = rng.below(len + 10);
                    let n = rng.below(len + 10) as usize;
                    let mut a = vec![0; n];
                    let got = r.read_at(off, &mut a).unwrap();
                    let want = data.get(off as usize..).unwrap_or(&[]);
                    let want = &want[..want.len().min(n)];
                    assert_eq!(&a[..got], want, "{what}");
                }
                7 => {
                    let p = rng.below(len + 10);
                    r.set_position(p);
                    c.set_position(p);
                }
                _ => {
                    let mut a = String::new();
                    let mut b = String::new();
                    same(r.read_line(&mut a), c.read_line(&mut b), &what);
                    assert_eq!(a, b, "{what}");
                }
            }
            assert_eq!(r.position(), c.position(), "{what}");
        }
    }

    #[test]
    fn reader_behaves_like_cursor_over_random_operations() {
        for seed in 1..20u64 {
            let len = (seed * 37 % 300) as usize;
            let data: Vec<u8> =
                (0..len).map(|i| if i % 13 == 0 { b'\n' } else { b'a' + (i % 26) as u8 }).collect();
            against_cursor(&data, || data.clone(), seed);
            against_cursor(&data, || Arc::new(data.clone()), seed + 1000);
        }
    }

    #[test]
    fn seeking_before_the_start_or_past_u64_is_an_error() {
        let mut r = Reader::new(vec![1u8, 2, 3]);
        assert!(r.seek(SeekFrom::End(-4)).is_err());
        assert_eq!(r.position(), 0);
        r.seek(SeekFrom::Start(u64::MAX)).unwrap();
        assert!(r.seek(SeekFrom::Current(1)).is_err());
        assert_eq!(r.read(&mut [0; 4]).unwrap(), 0);
        assert!(r.remaining_slice().is_empty());
    }

    #[test]
    fn read_at_is_short_at_the_end_and_empty_past_it() {
        let r = Reader::new([1u8, 2, 3, 4]);
        let mut buf = [0u8; 3];
        assert_eq!(r.read_at(2, &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], &[3, 4]);
        assert_eq!(r.read_at(4, &mut buf).unwrap(), 0);
        assert_eq!(r.read_at(u64::MAX, &mut buf).unwrap(), 0);
    }
}
