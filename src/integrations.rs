//! Optional integrations with other crates, one feature each: `bytes`
//! (zero-copy [`bytes::Bytes`] over a map or a [`Source`]) and
//! `stable_deref_trait` (the map types and [`Source`] are `StableDeref`).
//!
//! May call: `map`, `source`.
//!
//! # Safety
//!
//! The only unsafe code is `unsafe impl StableDeref`, argued at each impl.
#![allow(unsafe_code)]

#[cfg(feature = "bytes")]
mod bytes_impls {
    use crate::map::Map;
    use crate::source::Source;

    /// Zero copies: the `Bytes` owns the map and points into it; the map is
    /// unmapped when the last clone or slice of the `Bytes` is dropped.
    impl From<Map> for bytes::Bytes {
        fn from(map: Map) -> bytes::Bytes {
            bytes::Bytes::from_owner(map)
        }
    }

    /// Zero copies either way: a mapped source keeps its map, a read one
    /// its buffer.
    impl From<Source> for bytes::Bytes {
        fn from(source: Source) -> bytes::Bytes {
            bytes::Bytes::from_owner(source)
        }
    }
}

#[cfg(feature = "stable_deref_trait")]
mod stable_deref_impls {
    use stable_deref_trait::StableDeref;

    use crate::map::{Map, MapMut};
    use crate::source::Source;

    // SAFETY: `deref` returns the mapping's address, which lives outside the
    // `Map` value: moving the `Map` does not move it, every call returns the
    // same address, and no `&self` method moves or unmaps it (only `remap`
    // and `split_at`/`unmap` do, through `&mut self` or by value, which
    // StableDeref allows).
    unsafe impl StableDeref for Map {}

    // SAFETY: as for `Map`; `deref_mut` returns the same address as
    // `deref`, and writing through it changes the bytes, never the address.
    unsafe impl StableDeref for MapMut {}

    // SAFETY: a `Source` derefs to its map (stable as above) or to the heap
    // buffer of its `Vec`, which moving the `Source` does not move and which
    // no method reallocates: there are no `&mut self` methods at all.
    unsafe impl StableDeref for Source {}
}
