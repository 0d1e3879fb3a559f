//! Every public error type, one place to review each `Display` against Python's
//! message. Each module keeps its own errors in its `error.rs`; this module
//! re-exports them all.

#[cfg(all(feature = "process", target_os = "linux"))]
pub use crate::process::error::*;
pub use crate::queue::error::*;
pub use crate::sync::error::*;
pub use crate::thread::error::*;
