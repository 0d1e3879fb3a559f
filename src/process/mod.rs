//! The `process` layer (work in progress).

pub mod error;
