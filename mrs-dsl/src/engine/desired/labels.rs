//! The labels aspect: the service's own, then compose's and mrs-deploy's
//! (compose's win, as compose writes them).

use std::collections::HashMap;

use indexmap::IndexMap;
use mrs_compose::model::Service;
use mrs_env::spec::EnvSpec;

use super::Context;
use crate::engine::labels;

/// Every label of a service's container (the image ID and the deploy's
/// labels are added when it is created).
pub(super) fn container_labels(
    spec: &EnvSpec,
    cx: &Context<'_>,
    service_name: &str,
    service: &Service,
    number: u32,
    hash: &str,
    key_hashes: &IndexMap<String, String>,
) -> HashMap<String, String> {
    let (project, home, spec_hash) = (cx.project, cx.home, cx.spec_hash);
    let mut labels_map: HashMap<String, String> = service
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let depends: Vec<String> = service
        .depends_on
        .iter()
        .map(|(k, d)| {
            format!(
                "{k}:{}:{}",
                serde_json::to_value(d.condition)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                d.restart
            )
        })
        .collect();
    for (k, v) in [
        (labels::PROJECT, project.to_owned()),
        (labels::SERVICE, service_name.to_owned()),
        (labels::NUMBER, number.to_string()),
        (labels::ONEOFF, "False".to_owned()),
        (labels::CONFIG_HASH, hash.to_owned()),
        (labels::DEPENDS_ON, depends.join(",")),
        (labels::WORKING_DIR, home.display().to_string()),
        (
            labels::CONFIG_FILES,
            spec.overlays
                .iter()
                .map(|o| o.file.clone())
                .collect::<Vec<_>>()
                .join(","),
        ),
        (labels::VERSION, labels::COMPOSE_VERSION.to_owned()),
        (labels::ENV, spec.name.clone()),
        (labels::SPEC_HASH, spec_hash.to_owned()),
        (
            labels::KEY_HASHES,
            key_hashes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        ),
    ] {
        labels_map.insert(k.to_owned(), v);
    }
    if let mrs_env::spec::Persistence::Ephemeral { lifetime_secs, .. } = &spec.persistence {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        labels_map.insert(
            labels::EXPIRES.to_owned(),
            (now + lifetime_secs).to_string(),
        );
    }

    labels_map
}
