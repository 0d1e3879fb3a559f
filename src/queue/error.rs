//! Errors of the `queue` module.
