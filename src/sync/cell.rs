//! The crate's only `unsafe` code: the data inside a [`Lock<T>`](crate::Lock),
//! and the `Deref` / `DerefMut` of its two guards.
//!
//! Why `unsafe`, measured (callgrind, instructions per uncontended
//! `lock().await` + `*guard += 1` + drop of a `Lock<u64>`, polled once with a
//! no-op waker, release build): this `UnsafeCell` 113; the safe alternative,
//! an inner `std::sync::Mutex<u64>` locked under the permit, 157 (+39 %, two
//! more atomic read-modify-writes) — and a `MutexGuard` cannot live in an
//! owned guard, which has no borrow to tie it to. tokio's and async-lock's
//! `Mutex<T>` are built the same way.
//!
//! # The invariant every block below relies on
//!
//! **A [`LockGuard`] or [`OwnedLockGuard`] of a `Lock<T>` with `T` not
//! zero-sized exists only while the lock's one permit is taken for it.**
//! It holds because (all in `lock.rs`):
//!
//! 1. a guard is built only right after its caller took the permit (the
//!    `lock*` methods; guard fields are private to `sync`);
//! 2. the permit of a `Lock<T>` goes back only through the guard's drop
//!    (`release_held` with its own hold): the Python-style
//!    `acquire`/`release`, and [`Condition`](crate::Condition), which lets a
//!    lock go and takes it back, exist for `Lock<()>` only;
//! 3. the permit is one permit of the wait core, released with `Release`
//!    and taken with `Acquire` ordering, so each holder's accesses happen
//!    before the next holder's (the loom model
//!    `loom_models::sync::lock_data_is_exclusive` checks this, with this
//!    cell swapped for `loom::cell::UnsafeCell`).
//!
//! For `Lock<()>` a guard can outlive its hold (an explicit `release` in its
//! scope makes it *stale*, and another guard may then exist): the data is
//! then zero-sized, and references to a zero-sized value access no memory,
//! so they cannot race or alias anything.
#![allow(unsafe_code)]

use std::ops::{Deref, DerefMut};

use super::lock::{LockGuard, OwnedLockGuard};

/// The data of a `Lock<T>`: an `UnsafeCell` (loom's under `threadlet_loom`,
/// so the models see every access).
pub(crate) struct DataCell<T> {
    #[cfg(not(threadlet_loom))]
    cell: std::cell::UnsafeCell<T>,
    #[cfg(threadlet_loom)]
    cell: loom::cell::UnsafeCell<T>,
}

impl<T> std::fmt::Debug for DataCell<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never reads the data: that would need the lock.
        f.write_str("DataCell { .. }")
    }
}

// SAFETY: the cell hands out `&T` / `&mut T` only through a guard, and a
// guard exists only while the lock's permit is taken for it (the module's
// invariant), so at most one thread at a time reaches the data: like
// `std::sync::Mutex<T>`, sharing the cell needs only `T: Send`.
unsafe impl<T: Send> Sync for DataCell<T> {}

// Python's data-less lock has no data a panic could leave half-changed, so it
// stays unwind safe, as it was before it could carry data. A `Lock<T>` is
// not (a panic under its guard may leave `T` half-changed, and nothing
// poisons it), like tokio's `Mutex<T>`.
impl std::panic::RefUnwindSafe for DataCell<()> {}

impl<T> DataCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            #[cfg(not(threadlet_loom))]
            cell: std::cell::UnsafeCell::new(value),
            #[cfg(threadlet_loom)]
            cell: loom::cell::UnsafeCell::new(value),
        }
    }

    /// A shared reference for a guard's `deref`.
    ///
    /// Private to this module: only the guards below call it.
    fn shared(&self) -> *const T {
        #[cfg(not(threadlet_loom))]
        return self.cell.get();
        #[cfg(threadlet_loom)]
        return self.cell.with(|ptr| ptr);
    }

    /// An exclusive pointer for a guard's `deref_mut`.
    fn exclusive(&self) -> *mut T {
        #[cfg(not(threadlet_loom))]
        return self.cell.get();
        #[cfg(threadlet_loom)]
        return self.cell.with_mut(|ptr| ptr);
    }
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock's permit (the module's invariant,
        // or `T` is zero-sized), so no `&mut T` exists elsewhere; the
        // reference lives no longer than `&self`, hence than the guard.
        unsafe { &*self.data().shared() }
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock's permit (the module's invariant,
        // or `T` is zero-sized), so no other reference to the data exists;
        // the reference lives no longer than `&mut self`.
        unsafe { &mut *self.data().exclusive() }
    }
}

impl<T> Deref for OwnedLockGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: as for `LockGuard::deref`: the guard holds the permit.
        unsafe { &*self.data().shared() }
    }
}

impl<T> DerefMut for OwnedLockGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `LockGuard::deref_mut`: the guard holds the permit.
        unsafe { &mut *self.data().exclusive() }
    }
}
