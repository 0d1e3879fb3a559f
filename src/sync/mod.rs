//! The `sync` layer (work in progress).

pub(crate) mod core;
pub mod error;
