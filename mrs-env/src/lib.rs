//! MRS environments as data.
//!
//! - [`catalog`]: every overlay of a folder, parsed once with its [`rules`]
//!   (the `x-mrs` field); written by the build script, read by the macro.
//! - [`spec`]: what an environment binary embeds, and its resolution at run
//!   time from inputs and secrets.
//! - [`vars`]: variables, their dependencies and their (bounded) evaluation.
//! - [`realise`]: the one pipeline from a merged tree to a project.
//! - [`images`]: the pinned-image rule, at compile time and at run time.
//! - [`secret`]: values that are never printed.
//!
//! Pure data and logic: no Docker, no macros.

pub mod catalog;
pub mod images;
pub mod realise;
pub mod rules;
pub mod secret;
pub mod spec;
pub mod vars;

pub use catalog::Catalog;
pub use spec::{EnvSpec, Persistence, Tier, VarSource};
