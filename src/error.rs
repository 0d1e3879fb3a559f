//! Every public error type, and their one public path: `threadlet::error::X`
//! (the modules' own `error.rs` files are private; neither the crate root nor
//! the modules re-export errors). One place to review each `Display` against
//! Python's message.
//!
//! The rule for `#[non_exhaustive]`: an error enum has it when its variants
//! list *causes* that a later version may extend (starting or joining a
//! thread or process, pools, pipes, the process queue); an enum that mirrors
//! a closed pair of Python exceptions does not, so a `match` can cover it
//! (the queue's [`PutError`] = `queue.Full` / `queue.ShutDown`, [`GetError`] =
//! `queue.Empty` / `queue.ShutDown`); error *structs* never do (they carry no
//! data, users build them in `assert_eq!`).

#[cfg(all(feature = "process", target_os = "linux"))]
pub use crate::process::error::*;
pub use crate::queue::error::*;
pub use crate::sync::error::*;
pub use crate::thread::error::*;
