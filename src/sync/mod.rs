//! The `sync` layer (work in progress).

pub mod error;
