//! The mounts aspect: bind mounts (sources made absolute against the
//! project folder) and named volumes as `Binds`, anonymous volume targets.

use std::path::Path;

use mrs_compose::model::Service;
use mrs_compose::volumes::MountKind;

use super::{DesiredVolume, resolve_path};

/// `Binds` strings, and the targets of anonymous volumes.
pub fn mounts(
    service: &Service,
    home: &Path,
    volumes: &[DesiredVolume],
) -> (Vec<String>, Vec<String>) {
    let mut binds = Vec::new();
    let mut anonymous = Vec::new();
    for m in &service.volumes {
        let mode = if m.read_only { "ro" } else { "rw" };
        match (m.kind, &m.source) {
            (MountKind::Bind, Some(src)) => {
                let mut opts = vec![mode.to_owned()];
                if let Some(b) = &m.bind {
                    opts.extend(b.selinux.clone());
                    opts.extend(b.propagation.clone());
                }
                binds.push(format!(
                    "{}:{}:{}",
                    resolve_path(src, home).display(),
                    m.target,
                    opts.join(",")
                ));
            }
            (MountKind::Volume, Some(src)) => {
                let engine_name = volumes
                    .iter()
                    .find(|v| v.key == *src)
                    .map_or_else(|| src.clone(), |v| v.name.clone());
                let mut opts = vec![mode.to_owned()];
                if m.volume.as_ref().is_some_and(|v| v.nocopy) {
                    opts.push("nocopy".into());
                }
                binds.push(format!("{engine_name}:{}:{}", m.target, opts.join(",")));
            }
            (MountKind::Volume, None) => anonymous.push(m.target.clone()),
            (MountKind::Tmpfs, _) | (MountKind::Bind, None) => {}
        }
    }

    (binds, anonymous)
}
