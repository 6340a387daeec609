//! Service volume short syntax: `[SOURCE:]TARGET[:MODE]`.

use serde::{Deserialize, Serialize};

/// A service volume in long form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeMount {
    /// `bind`, `volume` or `tmpfs`.
    #[serde(rename = "type")]
    pub kind: MountKind,
    /// Host path (bind) or volume name; absent for anonymous volumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Path inside the container.
    pub target: String,
    /// Mounted read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Bind options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
    /// Volume options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeOptions>,
}

/// Kinds of mounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A host path.
    Bind,
    /// A named or anonymous volume.
    Volume,
    /// A tmpfs.
    Tmpfs,
}

/// Options of a bind mount.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindOptions {
    /// Create the host path when it is missing (compose's default is true).
    #[serde(default = "yes")]
    pub create_host_path: bool,
    /// Mount propagation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation: Option<String>,
    /// SELinux relabelling (`z` or `Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selinux: Option<String>,
}

fn yes() -> bool {
    true
}

/// Options of a volume mount.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeOptions {
    /// Do not copy the image's data into a new volume.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nocopy: bool,
}

/// The container path of a short volume string, as compose's merge keys it.
pub fn short_target(spec: &str) -> &str {
    let mut parts = spec.splitn(3, ':');
    let first = parts.next().unwrap_or_default();
    parts.next().unwrap_or(first)
}

/// Parses the short syntax; `Err` says what is wrong.
pub fn parse_short(spec: &str) -> Result<VolumeMount, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => return Err(format!("invalid volume `{spec}`: too many `:`")),
    };
    if target.is_empty() || !target.starts_with('/') {
        return Err(format!(
            "invalid volume `{spec}`: the container path `{target}` must be absolute"
        ));
    }
    if source == Some("") {
        return Err(format!("invalid volume `{spec}`: empty source"));
    }
    let kind = match source {
        Some(s) if is_path(s) => MountKind::Bind,
        _ => MountKind::Volume,
    };
    let mut mount = VolumeMount {
        kind,
        source: source.map(str::to_owned),
        target: target.to_owned(),
        read_only: false,
        bind: None,
        volume: None,
    };
    if kind == MountKind::Bind {
        mount.bind = Some(BindOptions {
            create_host_path: true,
            ..BindOptions::default()
        });
    }
    for option in mode.into_iter().flat_map(|m| m.split(',')) {
        match option {
            "ro" => mount.read_only = true,
            "rw" => mount.read_only = false,
            "z" | "Z" if kind == MountKind::Bind => {
                if let Some(b) = mount.bind.as_mut() {
                    b.selinux = Some(option.to_owned());
                }
            }
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate"
                if kind == MountKind::Bind =>
            {
                if let Some(b) = mount.bind.as_mut() {
                    b.propagation = Some(option.to_owned());
                }
            }
            "nocopy" if kind == MountKind::Volume => {
                mount.volume = Some(VolumeOptions { nocopy: true });
            }
            "cached" | "delegated" | "consistent" => {}
            other => return Err(format!("invalid volume `{spec}`: unknown mode `{other}`")),
        }
    }
    Ok(mount)
}

/// Whether a volume source is a host path rather than a volume name.
pub fn is_path(source: &str) -> bool {
    source.starts_with('.') || source.starts_with('/') || source.starts_with('~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        let m = parse_short("./log:/app/log").expect("bind");
        assert_eq!(
            (m.kind, m.source.as_deref(), m.target.as_str()),
            (MountKind::Bind, Some("./log"), "/app/log")
        );
        let m = parse_short("data:/var/lib/x:ro").expect("volume");
        assert_eq!((m.kind, m.read_only), (MountKind::Volume, true));
        let m = parse_short("/anon").expect("anonymous");
        assert_eq!((m.kind, m.source), (MountKind::Volume, None));
        assert!(parse_short("a:relative").is_err());
        assert!(parse_short("a:/b:bogus").is_err());
        assert_eq!(short_target("./a:/b:ro"), "/b");
        assert_eq!(short_target("/anon"), "/anon");
    }
}
