//! The desired state: what the resolved project asks the engine for.
//! One builder per aspect, each in its own file: `env` (variables, secrets,
//! size limits), `hash`, `labels`, `ports`, `mounts`, `networks`, `health`,
//! `resources` (the host config); this file assembles them.

pub mod env;
pub mod hash;
pub mod health;
pub mod labels;
pub mod mounts;
pub mod networks;
pub mod ports;
pub mod resources;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::models::{ContainerCreateBody, EndpointSettings, NetworkingConfig};
use indexmap::IndexMap;

use mrs_compose::model::{Network, Service, Volume};
use mrs_compose::volumes::MountKind;
use mrs_env::spec::{EnvSpec, Resolved};

use self::env::EnvVar;

/// One container to run.
#[derive(Clone, Debug)]
pub struct DesiredContainer {
    /// Service key.
    pub service: String,
    /// Container number.
    pub number: u32,
    /// Final name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Config hash (compose's `config-hash` label).
    pub hash: String,
    /// Short hash per service key, to explain recreations.
    pub key_hashes: IndexMap<String, String>,
    /// The create body without its environment (see [`DesiredContainer::create_body`])
    /// and the image-ID label (stamped at apply time).
    pub body: ContainerCreateBody,
    /// The environment, secrets wrapped until the create request.
    pub env: Vec<EnvVar>,
    /// Networks by engine name, with aliases; the first is attached at create.
    pub networks: Vec<(String, Vec<String>)>,
    /// Services this one depends on, with conditions.
    pub depends_on: Vec<(String, mrs_compose::model::Condition)>,
    /// Whether the service has a health check.
    pub has_healthcheck: bool,
}

impl DesiredContainer {
    /// The create request's body: the one place secrets are exposed.
    pub fn create_body(&self) -> ContainerCreateBody {
        ContainerCreateBody {
            env: Some(self.env.iter().map(EnvVar::entry).collect()),
            ..self.body.clone()
        }
    }

    /// Volume paths that are anonymous for this container: declared by the
    /// image or by the service without a source, and not otherwise mounted.
    pub fn anonymous_targets(&self, image_volumes: &[String]) -> Vec<String> {
        let mounted: Vec<&str> = self
            .body
            .host_config
            .as_ref()
            .and_then(|h| h.binds.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|b| b.split(':').nth(1))
            .collect();
        let mut targets: Vec<String> = image_volumes
            .iter()
            .chain(self.body.volumes.iter().flatten())
            .map(|t| t.trim_end_matches('/').to_owned())
            .filter(|t| !mounted.contains(&t.as_str()))
            .collect();
        targets.sort();
        targets.dedup();
        targets
    }
}

/// A network or volume to ensure.
#[derive(Clone, Debug)]
pub struct Named<T> {
    /// Compose key.
    pub key: String,
    /// Engine name.
    pub name: String,
    /// The config.
    pub config: T,
    /// Hash of the config (compose's `config-hash` label).
    pub hash: String,
}

/// A network to ensure.
pub type DesiredNetwork = Named<Network>;

/// A named volume to ensure.
pub type DesiredVolume = Named<Volume>;

/// Networks or volumes with their engine names (set by the project's normalisation).
fn named<T: serde::Serialize + Clone>(
    project: &str,
    items: &IndexMap<String, T>,
    name: impl Fn(&T) -> Option<&String>,
) -> Vec<Named<T>> {
    items
        .iter()
        .map(|(key, config)| Named {
            key: key.clone(),
            name: name(config)
                .cloned()
                .unwrap_or_else(|| format!("{project}_{key}")),
            config: config.clone(),
            hash: hash_json(&serde_json::to_value(config).unwrap_or_default()),
        })
        .collect()
}

/// A host folder to create before start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folder {
    /// Absolute path.
    pub path: PathBuf,
    /// Owner, when the mkdir label says.
    pub owner: Option<(u32, u32)>,
    /// Mode, when the mkdir label says.
    pub mode: Option<u32>,
}

/// Everything `up` converges to.
#[derive(Clone, Debug)]
pub struct Desired {
    /// Project name.
    pub project: String,
    /// Project folder.
    pub home: PathBuf,
    /// Networks.
    pub networks: Vec<DesiredNetwork>,
    /// Volumes.
    pub volumes: Vec<DesiredVolume>,
    /// Folders.
    pub folders: Vec<Folder>,
    /// Containers in start order (dependencies first).
    pub containers: Vec<DesiredContainer>,
}

/// Why the desired state cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DesiredError(pub String);

/// Builds the desired state of a resolved environment.
pub fn desired(
    spec: &EnvSpec,
    resolved: &Resolved,
    spec_hash: &str,
) -> Result<Desired, DesiredError> {
    let project = &resolved.project;
    let name = resolved.project_name.clone();
    let home = resolved.home.clone();
    let networks = named(&name, &project.networks, |n| n.name.as_ref());
    let volumes = named(&name, &project.volumes, |v| v.name.as_ref());
    let order = mrs_compose::project::start_order(project)
        .map_err(|c| DesiredError(format!("dependency cycle: {}", c.join(" -> "))))?;
    let mut folders = Vec::new();
    let mut containers = Vec::new();
    for service_name in order {
        let Some(service) = project.services.get(&service_name) else {
            continue;
        };
        folders.extend(mkdir_folders(service, &home)?);
        for m in &service.volumes {
            if m.kind == MountKind::Bind
                && let Some(src) = &m.source
            {
                let path = resolve_path(src, &home);
                if m.bind.as_ref().is_none_or(|b| b.create_host_path)
                    && !folders.iter().any(|f: &Folder| f.path == path)
                {
                    folders.push(Folder {
                        path,
                        owner: None,
                        mode: None,
                    });
                }
            }
        }
        containers.push(container(
            spec,
            &Context {
                project: &name,
                home: &home,
                networks: &networks,
                volumes: &volumes,
                spec_hash,
                redactor: &resolved.redactor,
            },
            &service_name,
            service,
        )?);
    }
    Ok(Desired {
        project: name,
        home,
        networks,
        volumes,
        folders,
        containers,
    })
}

/// `~/x` and `./x` against the project folder.
pub fn resolve_path(source: &str, home: &Path) -> PathBuf {
    mrs_compose::project::resolve_path(source, home)
}

/// Folders named by the seed's `io.yourlabs.compose.mkdir=path,path:uid:gid:mode` label.
pub fn mkdir_folders(service: &Service, home: &Path) -> Result<Vec<Folder>, DesiredError> {
    let Some(value) = service.labels.get(super::labels::MKDIR) else {
        return Ok(Vec::new());
    };
    let spec = parse_mkdir(value).map_err(DesiredError)?;
    let (paths, owner, mode) = (spec.paths, spec.owner, spec.mode);
    Ok(paths
        .into_iter()
        .map(|p| Folder {
            path: resolve_path(&p, home),
            owner,
            mode,
        })
        .collect())
}

/// Parses `a,b,c:uid:gid:mode` (owner and mode optional, applying to every path).
pub fn parse_mkdir(value: &str) -> Result<MkdirSpec, String> {
    let mut parts = value.split(':');
    let paths: Vec<String> = parts
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let rest: Vec<&str> = parts.collect();
    let bad = || {
        format!(
            "invalid `{}` label `{value}`: expected `path,path:uid:gid:mode`",
            super::labels::MKDIR
        )
    };
    let (owner, mode) = match rest.as_slice() {
        [] => (None, None),
        [uid, gid] => (
            Some((
                uid.parse().map_err(|_| bad())?,
                gid.parse().map_err(|_| bad())?,
            )),
            None,
        ),
        [uid, gid, mode] => (
            Some((
                uid.parse().map_err(|_| bad())?,
                gid.parse().map_err(|_| bad())?,
            )),
            Some(u32::from_str_radix(mode, 8).map_err(|_| bad())?),
        ),
        _ => return Err(bad()),
    };
    if paths
        .iter()
        .any(|p| p.starts_with('/') || p.split('/').any(|c| c == ".."))
    {
        return Err(format!(
            "`{}` paths must stay inside the project folder: `{value}`",
            super::labels::MKDIR
        ));
    }
    Ok(MkdirSpec { paths, owner, mode })
}

/// The seed's mkdir label, parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct MkdirSpec {
    /// Folders, relative to the project folder.
    pub paths: Vec<String>,
    /// Owner uid and gid.
    pub owner: Option<(u32, u32)>,
    /// Mode bits.
    pub mode: Option<u32>,
}

pub use hash::hash_json;

/// What every container of a project is built against.
struct Context<'a> {
    project: &'a str,
    home: &'a Path,
    networks: &'a [DesiredNetwork],
    volumes: &'a [DesiredVolume],
    spec_hash: &'a str,
    redactor: &'a mrs_env::secret::Redactor,
}

fn container(
    spec: &EnvSpec,
    cx: &Context<'_>,
    service_name: &str,
    service: &Service,
) -> Result<DesiredContainer, DesiredError> {
    let (project, home, networks, volumes) = (cx.project, cx.home, cx.networks, cx.volumes);
    let number = 1;
    let name = service
        .container_name
        .clone()
        .unwrap_or_else(|| format!("{project}-{service_name}-{number}"));
    let image = service.image.clone().ok_or_else(|| {
        DesiredError(format!(
            "service `{service_name}` has no image; mrs-deploy builds nothing at deploy time"
        ))
    })?;

    let (hash, key_hashes) = hash::config_hash(service, home, cx.redactor);
    let labels_map =
        labels::container_labels(spec, cx, service_name, service, number, &hash, &key_hashes);
    let env = env::env(&service.environment, cx.redactor);
    let args: Vec<String> = service
        .entrypoint
        .iter()
        .flatten()
        .chain(service.command.iter().flatten())
        .cloned()
        .collect();
    env::check_sizes(&name, &env, &args)?;
    let (exposed, bindings) = ports::ports(service);
    let (binds, anonymous) = mounts::mounts(service, home, volumes);
    let attached = networks::attachments(service, service_name, &name, networks);
    let primary = attached.first().cloned();
    let (healthcheck, has_healthcheck) = health::healthcheck(service);
    let host_config = resources::host_config(
        service,
        binds,
        bindings,
        primary.as_ref().map(|(n, _)| n.clone()),
    );
    let networking_config = primary.as_ref().map(|(n, aliases)| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            n.clone(),
            EndpointSettings {
                aliases: Some(aliases.clone()),
                ..EndpointSettings::default()
            },
        )])),
    });

    let body = ContainerCreateBody {
        image: Some(image.clone()),
        cmd: service.command.clone(),
        entrypoint: service.entrypoint.clone(),
        labels: Some(labels_map),
        exposed_ports: Some(exposed),
        volumes: (!anonymous.is_empty()).then_some(anonymous),
        working_dir: service.working_dir.clone(),
        user: service.user.clone(),
        hostname: service.hostname.clone(),
        domainname: service.domainname.clone(),
        tty: service.tty,
        open_stdin: service.stdin_open,
        stop_signal: service.stop_signal.clone(),
        stop_timeout: service
            .stop_grace_period
            .as_ref()
            .map(|d| i64::try_from(d.0.as_secs()).unwrap_or(i64::MAX)),
        healthcheck,
        host_config: Some(host_config),
        networking_config,
        ..ContainerCreateBody::default()
    };
    Ok(DesiredContainer {
        service: service_name.to_owned(),
        number,
        name,
        image,
        hash,
        key_hashes,
        body,
        env,
        networks: attached,
        depends_on: service
            .depends_on
            .iter()
            .map(|(k, d)| (k.clone(), d.condition))
            .collect(),
        has_healthcheck,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mkdir_label() {
        let spec =
            parse_mkdir("log,spooler,spooler/mail,mrsattachments:1000:1000:0750").expect("valid");
        assert_eq!(
            spec.paths,
            ["log", "spooler", "spooler/mail", "mrsattachments"]
        );
        assert_eq!((spec.owner, spec.mode), (Some((1000, 1000)), Some(0o750)));
        assert_eq!(parse_mkdir("a").expect("valid").owner, None);
        assert!(parse_mkdir("a:x:1:0750").is_err());
        assert!(parse_mkdir("../etc:0:0:0777").is_err());
        assert!(parse_mkdir("/etc").is_err());
    }

    #[test]
    fn paths_resolve_against_home() {
        assert_eq!(
            resolve_path("./log", Path::new("/home/mrs")),
            PathBuf::from("/home/mrs/log")
        );
        assert_eq!(
            resolve_path("./a/../b", Path::new("/h")),
            PathBuf::from("/h/b")
        );
        assert_eq!(resolve_path("/abs", Path::new("/h")), PathBuf::from("/abs"));
    }
}
