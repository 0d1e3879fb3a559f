//! Errors of the `sync` module.
