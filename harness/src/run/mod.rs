//! Running flows on devices: the matrix, the workers, the results.
pub mod plan;
pub mod runner;
