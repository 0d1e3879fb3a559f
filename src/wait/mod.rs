//! The wait layer: the one waiting mechanism every primitive and queue sits on.
//!
//! - [`blocking`]: the one driver every `blocking_*` method runs its async
//!   future with (and the rule for when a blocking call is refused);
//! - [`core`]: the FIFO wait list and the counting / notify / broadcast modes
//!   (`RawSemaphore`), with its invariants;
//! - [`loom`]: the std / loom switch every atomic and mutex of the cores goes
//!   through (`--cfg threadlet_loom` swaps in loom);
//! - [`timeout`]: every timeout turned into a deadline by one code path.

pub(crate) mod blocking;
pub(crate) mod core;
pub(crate) mod loom;
pub(crate) mod timeout;
