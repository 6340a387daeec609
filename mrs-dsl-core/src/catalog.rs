//! Finding the catalog the build script wrote.
//!
//! The only environment variable the macro reads is `OUT_DIR`, which cargo
//! sets for crates with a build script; reading it happens here and nowhere
//! else. A proc macro stays loaded between expansions, so the parsed catalog
//! is cached by path and modification time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use mrs_env::Catalog;
use mrs_env::catalog::FILE_NAME;

type Cache = HashMap<PathBuf, (SystemTime, Arc<Catalog>)>;

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

/// The catalog of the crate being compiled.
pub fn current() -> Result<Arc<Catalog>, String> {
    #[allow(clippy::disallowed_methods)]
    let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| {
        "`deployment!` needs the overlay catalog written by a build script, and this crate has none: \
         add `build.rs` with `fn main() { mrs_dsl::build::run(\"deployments/compose\") }` \
         and `mrs-dsl` (feature `build`) under [build-dependencies]"
            .to_owned()
    })?;
    load(&Path::new(&out_dir).join(FILE_NAME))
}

/// Loads (or reuses) the catalog at `path`.
pub fn load(path: &Path) -> Result<Arc<Catalog>, String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        format!("cannot read the overlay catalog {}: {e}; does the build script call mrs_dsl::build::run?", path.display())
    })?;
    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let mut guard = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let cache = guard.get_or_insert_with(HashMap::new);
    if let Some((t, c)) = cache.get(path)
        && *t == mtime
    {
        return Ok(c.clone());
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let catalog = Arc::new(
        Catalog::from_json(&text)
            .map_err(|e| format!("the overlay catalog {} is corrupt: {e}", path.display()))?,
    );
    cache.insert(path.to_owned(), (mtime, catalog.clone()));
    Ok(catalog)
}
