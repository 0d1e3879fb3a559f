//! Errors of the `thread` module.
