//! What both pools — this machine's [`Pool`](super::Pool) and the cluster's —
//! do before a call is queued: check that the function is registered, and
//! encode the items in chunks (all of them first: a bad item means nothing
//! is sent). A leaf of `pool/`.

use std::any::TypeId;

use serde::Serialize;

use super::super::registry::{self, Lookup};
use crate::error::PoolError;

/// Why a call is refused before anything is queued; each pool turns it into
/// its own `PoolError` (the variants have the same names in both).
#[derive(Debug)]
pub(crate) enum Refusal {
    UnknownTarget(String),
    AmbiguousTarget(String),
    InvalidChunksize,
    Encode(String),
}

/// `impl From<Refusal> for $error`, for a pool error type with the four
/// variants of the same names (this machine's and the cluster's).
macro_rules! refusal_into {
    ($error:ty) => {
        impl From<$crate::process::pool::chunks::Refusal> for $error {
            fn from(r: $crate::process::pool::chunks::Refusal) -> Self {
                use $crate::process::pool::chunks::Refusal;
                match r {
                    Refusal::UnknownTarget(key) => Self::UnknownTarget(key),
                    Refusal::AmbiguousTarget(key) => Self::AmbiguousTarget(key),
                    Refusal::InvalidChunksize => Self::InvalidChunksize,
                    Refusal::Encode(msg) => Self::Encode(msg),
                }
            }
        }
    };
}
#[cfg_attr(not(feature = "cluster"), allow(unused_imports))] // the cluster's pool
pub(crate) use refusal_into;

refusal_into!(PoolError);

/// The registry key of `F`, if `F` is registered (and only once).
pub(crate) fn target_key<A, R, F>() -> Result<&'static str, Refusal>
where
    F: Fn(A) -> R + 'static,
{
    let key = registry::key_of::<F>();
    match registry::lookup(key, Some(TypeId::of::<F>())) {
        Ok(_) => Ok(key),
        Err(Lookup::Unknown) => Err(Refusal::UnknownTarget(key.to_owned())),
        Err(Lookup::Ambiguous) => Err(Refusal::AmbiguousTarget(key.to_owned())),
    }
}

/// `items` encoded in chunks of `chunksize` items (each an encoded `Vec<A>`);
/// without a chunk size, in about `default_chunks` chunks.
pub(crate) fn encode_chunks<A: Serialize>(
    items: impl IntoIterator<Item = A>,
    chunksize: Option<usize>,
    default_chunks: usize,
) -> Result<Vec<Vec<u8>>, Refusal> {
    let items: Vec<A> = items.into_iter().collect();
    let chunksize = match chunksize {
        Some(0) => return Err(Refusal::InvalidChunksize),
        Some(n) => n,
        None => items.len().div_ceil(default_chunks.max(1)).max(1),
    };
    items
        .chunks(chunksize)
        .map(|chunk| postcard::to_stdvec(chunk).map_err(|e| Refusal::Encode(e.to_string())))
        .collect()
}

#[cfg(all(test, not(threadlet_loom)))]
mod tests {
    use super::*;

    #[test]
    fn chunks_by_size_or_by_default_count() {
        assert_eq!(encode_chunks(0..5u8, Some(2), 1).unwrap().len(), 3);
        assert_eq!(encode_chunks(0..5u8, None, 2).unwrap().len(), 2);
        assert_eq!(encode_chunks(0..5u8, None, 64).unwrap().len(), 5);
        assert!(
            encode_chunks(std::iter::empty::<u8>(), None, 4)
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            encode_chunks(0..5u8, Some(0), 4),
            Err(Refusal::InvalidChunksize)
        ));
    }
}
