//! The OT core compiled alone for fuzzing: the same source files as `quire::ot`.

#[path = "../../src/ot/mod.rs"]
pub mod ot;
