//! The `thread` layer (work in progress).

pub mod error;
