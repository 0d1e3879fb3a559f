//! Every public error type, and their one public path: `threadlet::error::X`
//! (the modules' own `error.rs` files are private; neither the crate root nor
//! the modules re-export errors). One place to review each `Display` against
//! Python's message.
//!
//! The rule for `#[non_exhaustive]`: every public error *enum* has it (a
//! later version may add a variant); error *structs* do not (they carry no
//! data or only data the caller compares against, and users build them in
//! `assert_eq!`).

#[cfg(feature = "process")]
pub use crate::process::error::*;
pub use crate::queue::error::*;
pub use crate::sync::error::*;
pub use crate::thread::error::*;
