//! Errors of the `process` module.
