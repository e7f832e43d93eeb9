//! Process exit codes of `harness`. Stable: CI scripts depend on them.
//!
//! Errors get theirs from `HarnessError::exit_code` (`crate::errors`), at the top of the
//! command line only; a run's results from `RunResults::exit_code` (`crate::results`).

/// Everything passed (`run`), or every input is valid (`check`).
pub const OK: i32 = 0;
/// A test failed: an assertion did not hold on some device.
pub const TEST_FAILED: i32 = 1;
/// Invalid input: a flow, profile or command-line argument is wrong. Nothing ran.
pub const INVALID_INPUT: i32 = 2;
/// Infrastructure error: a device or server was unreachable, or a session was lost.
pub const INFRASTRUCTURE: i32 = 3;
/// The run was interrupted with SIGINT (Ctrl-C): 128 + 2, as shells report it. The finished
/// cases' reports are written; the cases not run are `skipped`.
pub const INTERRUPTED: i32 = 130;
/// The run was stopped with SIGTERM (a cancelled CI job): 128 + 15. Reports as for
/// [`INTERRUPTED`].
pub const TERMINATED: i32 = 143;
