//! Deployments as Rust.
//!
//! Each environment is a binary whose whole source is one [`deployment!`]:
//! the macro checks it against the compose overlays at compile time (so
//! `cargo check` is the configuration linter) and gives it a `main` that
//! performs exactly that deployment through the Docker Engine API.
//!
//! ```text
//! mrs_dsl::deployment! {
//!     /// Production's setup on a developer's machine, without a load balancer.
//!     env: local,
//!     tier: development,                      // development | review | staging | production
//!     persistent: { home: "/tmp/testmrs" },   // or ephemeral: { project: "test-{BRANCH_SLUG}", root: "/srv/review", lifetime: 7d }
//!     overlays: [base, persist],              // merged in order; their `x-mrs` rules apply
//!     networks: [web],                        // external networks the host provides
//!     host: "staging.mrs.beta.gouv.fr",       // environments on one host are checked together
//!     services: {
//!         django: { image: "betagouv/mrs:{IMAGE_TAG}", build: none, ports: ["8000:8000"] },
//!     },
//!     vars: {
//!         HOST: "localhost:8000",             // a literal
//!         HOST_SLUG: slug(HOST),              // derived
//!         MAIL_HOST: format("mail.{HOST}"),   // a template of other variables
//!         /// The commit CI deploys.
//!         IMAGE_TAG: input,                   // read at run time
//!         SECRET_KEY: secret,                 // read at run time, never shown or embedded
//!         SENTRY_DSN: unset,                  // deliberately unset
//!     },
//!     health: { url: "http://{HOST}/?test={uuid}", timeout: 60s,
//!               basic_auth: { user: "dev", password: BASICAUTH_PASSWORD }, unless: BASICAUTH_DISABLE },
//! }
//! ```
//!
//! The crate needs a build script that writes the overlay catalog:
//! `fn main() { mrs_dsl::build::run("deployments/compose") }`.

pub use mrs_dsl_macros::deployment;

/// What an environments crate's build script calls.
#[cfg(feature = "build")]
pub mod build {
    pub use mrs_dsl_core::build::{run, try_run};
}

#[cfg(feature = "engine")]
pub mod cli;
#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub mod exit;
#[cfg(feature = "engine")]
pub mod history;
#[cfg(feature = "engine")]
pub mod inputs;
#[cfg(feature = "engine")]
pub mod report;
#[cfg(feature = "engine")]
pub mod session;

/// Used by the code `deployment!` generates; not a public API.
#[cfg(feature = "engine")]
#[doc(hidden)]
pub mod __private {
    pub use crate::cli::run;
}
