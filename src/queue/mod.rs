//! The `queue` layer (work in progress).

pub mod error;
