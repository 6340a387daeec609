//! MRS environments as data.
//!
//! - [`catalog`]: every overlay of a folder, parsed once with its [`rules`]
//!   (the `x-mrs` field); written by the build script, read by the macro.
//! - [`spec`]: what an environment binary embeds, and its resolution at run
//!   time from inputs and secrets.
//! - [`secret`]: values that are never printed.
//!
//! Pure data and logic: no Docker, no macros.

pub mod catalog;
pub mod rules;
pub mod secret;
pub mod spec;

pub use catalog::Catalog;
pub use spec::{EnvSpec, Persistence, Tier, VarSource};
