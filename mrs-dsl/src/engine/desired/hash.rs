//! The config hash: what defines a container, secrets masked.

use std::path::Path;

use indexmap::IndexMap;
use mrs_compose::model::Service;
use mrs_compose::volumes::MountKind;
use mrs_env::secret::Redactor;
use sha2::{Digest, Sha256};

use super::{env, resolve_path};

/// SHA-256 hex of canonical JSON.
pub fn hash_json(value: &serde_json::Value) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    mrs_env::catalog::hex(&Sha256::digest(&bytes))
}

/// The service's hash (compose's `config-hash` label) and a short hash per key.
pub fn config_hash(
    service: &Service,
    home: &Path,
    redactor: &Redactor,
) -> (String, IndexMap<String, String>) {
    // What defines the container: the service as resolved, bind sources made
    // absolute, network names. Not: build, depends_on (compose excludes them),
    // file paths of the overlays or the binary.
    let mut hashed = service.clone();
    hashed.build = None;
    hashed.depends_on.clear();
    hashed.pull_policy = None;
    for m in &mut hashed.volumes {
        if m.kind == MountKind::Bind
            && let Some(s) = &m.source
        {
            m.source = Some(resolve_path(s, home).display().to_string());
        }
    }
    let mut value = serde_json::to_value(&hashed).unwrap_or_default();
    // Secrets are never hashed: a label must not let anyone test guesses.
    // A changed secret is found by comparing with the container's Config.Env.
    env::mask_secrets(&mut value, redactor);
    let hash = hash_json(&value);
    let key_hashes: IndexMap<String, String> = match &value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), hash_json(v)[..8].to_owned()))
            .collect(),
        _ => IndexMap::new(),
    };

    (hash, key_hashes)
}
