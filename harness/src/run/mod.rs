//! Running flows on devices: the matrix (`plan`), opening device sessions (`session`), the
//! workers (`runner`).
pub mod plan;
pub mod runner;
pub mod session;
