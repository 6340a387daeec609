//! Compose overlays without Docker.
//!
//! Loads docker-compose overlay files into a tree that keeps the file, line
//! and column of every value ([`yaml`], [`node`]), checks their keys against
//! the Compose Specification ([`schema`]), interpolates each file
//! ([`interpolate`]), merges them with docker compose v2's rules ([`merge`]),
//! decodes the result into a typed model ([`model`]) and normalises it
//! ([`project`]). [`variables`] indexes every variable a set of overlays
//! needs. Nothing here knows about the Docker Engine or about macros: the
//! build script, the `deployment!` macro and the environment binaries all
//! use this crate, so each rule exists once.
//!
//! ```
//! use mrs_compose::{Overlay, project};
//!
//! let base = Overlay::parse("base.yml", "services:\n  web:\n    image: nginx:${TAG:-1.27}\n").unwrap();
//! let vars = project::vars_from(&[]);
//! let loaded = project::load(&[base], &vars, project::NameSources { flag: Some("demo"), ..Default::default() }).unwrap();
//! assert_eq!(loaded.project.services["web"].image.as_deref(), Some("nginx:1.27"));
//! ```

pub mod duration;
pub mod env_file;
pub mod error;
pub mod image;
pub mod interpolate;
pub mod limits;
pub mod loader;
pub mod location;
pub mod merge;
pub mod model;
pub mod node;
pub mod output;
mod output_v1;
pub mod overlay;
pub mod paths;
pub mod ports;
pub mod project;
pub mod project_name;
pub mod schema;
pub mod variables;
pub mod volumes;
pub mod yaml;

pub use error::{Diagnostic, Diagnostics, Kind};
pub use location::{Location, Source, Sources};
pub use model::Project;
pub use node::Node;
pub use overlay::Overlay;
pub use variables::VariableIndex;
