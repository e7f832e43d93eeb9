//! Running flows on devices: the matrix (`plan`), opening device sessions (`session`), the
//! workers that run cases and send their events (`runner`), `--until-confident` rounds
//! (`until_confident`), stopping a run on a signal (`interrupt`), and a whole `harness run` from input to reports (`campaign`).
pub mod campaign;
pub mod interrupt;
pub mod plan;
pub mod runner;
pub mod session;
pub mod until_confident;
