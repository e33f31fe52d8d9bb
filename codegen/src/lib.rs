//! hubgen's generator core. Pure functions from the validated IR to file
//! contents: no filesystem (but `project`, which reads a project for the
//! front ends), no environment, no clock. The CLI, the proc
//! macro and the tests are thin front ends over it.

pub mod catalog;
pub mod check;
pub mod docs;
pub mod erasure;
pub mod generate;
pub mod hash;
pub mod import;
pub mod plan;
pub mod project;
pub mod rust;
pub mod sql;
pub mod tenant;

pub use generate::{generate, generate_from, Config, Crates, Existing, Flavor, HubState, Output};
pub use project::Project;
