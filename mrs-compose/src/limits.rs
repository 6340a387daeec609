//! Bounds on the work any input can cause.
//!
//! Compose files come from users and from other people's repositories: a
//! hostile one must be refused quickly and in little memory, never hang the
//! loader or abort the process. Each bound is far above what real compose
//! files use (the largest of the corpus has a few thousand values) and low
//! enough that any input within them loads in well under a second and 100 MB.
//! compose-go has the same kind of guard (its YAML decoder refuses
//! "excessive aliasing").

/// Largest compose or env file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Deepest nesting of YAML mappings and sequences in one file.
pub const MAX_DEPTH: usize = 128;

/// Most values (scalars, mappings, sequences) one file may hold, counting
/// every copy an alias makes.
pub const MAX_NODES: usize = 200_000;

/// Deepest nesting of `${VAR:-${VAR:-...}}` defaults in one string.
pub const MAX_INTERPOLATION_DEPTH: usize = 32;

/// Most port mappings one service may expand to (ranges such as
/// `8000-9000:8000-9000` give one mapping per port).
pub const MAX_PORTS_PER_SERVICE: usize = 65_536;

/// Most files one load may read: compose files, `include`d and `extends`
/// files, env files (each counted once, they are cached).
pub const MAX_FILES: usize = 1_000;

/// Most values `extends` and `include` may copy into one project.
pub const MAX_EXPANDED_NODES: usize = 1_000_000;
