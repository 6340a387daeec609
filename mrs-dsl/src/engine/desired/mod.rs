//! The desired state: what the resolved project asks the engine for.
//! Aspects with rules of their own have their own file (`env.rs`:
//! variables, secrets and size limits).

pub mod env;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, HostConfigLogConfig,
    NetworkingConfig, PortBinding, ResourcesUlimits, RestartPolicy, RestartPolicyNameEnum,
};
use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use mrs_compose::model::{Network, Service, Volume};
use mrs_compose::volumes::MountKind;
use mrs_env::spec::{EnvSpec, Resolved};

use self::env::EnvVar;
use super::labels;

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
    let Some(value) = service.labels.get(labels::MKDIR) else {
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
            labels::MKDIR
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
            labels::MKDIR
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

/// SHA-256 hex of canonical JSON.
pub fn hash_json(value: &serde_json::Value) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    mrs_env::catalog::hex(&Sha256::digest(&bytes))
}

fn nanos(d: &mrs_compose::duration::GoDuration) -> i64 {
    i64::try_from(d.0.as_nanos()).unwrap_or(i64::MAX)
}

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
    let (project, home, networks, volumes, spec_hash) =
        (cx.project, cx.home, cx.networks, cx.volumes, cx.spec_hash);
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
    env::mask_secrets(&mut value, cx.redactor);
    let hash = hash_json(&value);
    let key_hashes: IndexMap<String, String> = match &value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), hash_json(v)[..8].to_owned()))
            .collect(),
        _ => IndexMap::new(),
    };

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
        (labels::CONFIG_HASH, hash.clone()),
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

    let env = env::env(&service.environment, cx.redactor);
    let args: Vec<String> = service
        .entrypoint
        .iter()
        .flatten()
        .chain(service.command.iter().flatten())
        .cloned()
        .collect();
    env::check_sizes(&name, &env, &args)?;

    let mut exposed: Vec<String> = service
        .expose
        .iter()
        .map(|e| {
            if e.contains('/') {
                e.clone()
            } else {
                format!("{e}/tcp")
            }
        })
        .collect();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &service.ports {
        let key = format!("{}/{}", p.target, p.protocol);
        if !exposed.contains(&key) {
            exposed.push(key.clone());
        }
        let binding = PortBinding {
            host_ip: p.host_ip.clone(),
            host_port: p.published.clone(),
        };
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(binding);
    }

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

    let restart_policy = service.restart.as_deref().map(|r| {
        let (name, count) = match r.split_once(':') {
            Some(("on-failure", n)) => ("on-failure", n.parse().ok()),
            _ => (r, None),
        };
        RestartPolicy {
            name: Some(match name {
                "always" => RestartPolicyNameEnum::ALWAYS,
                "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
                "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
                _ => RestartPolicyNameEnum::NO,
            }),
            maximum_retry_count: count,
        }
    });

    let mut service_networks: Vec<(&String, i64)> = service
        .networks
        .iter()
        .map(|(k, n)| (k, n.as_ref().and_then(|n| n.priority).unwrap_or(0)))
        .collect();
    service_networks.sort_by_key(|(_, p)| std::cmp::Reverse(*p));
    let mut attached = Vec::new();
    for (key, _) in service_networks {
        let engine_name = networks
            .iter()
            .find(|n| n.key == **key)
            .map_or_else(|| key.clone(), |n| n.name.clone());
        let mut aliases = vec![service_name.to_owned(), name.clone()];
        if let Some(Some(n)) = service.networks.get(key) {
            aliases.extend(n.aliases.iter().cloned());
        }
        attached.push((engine_name, aliases));
    }
    let primary = attached.first().cloned();

    let healthcheck = service.healthcheck.as_ref().map(|h| HealthConfig {
        test: Some(if h.disable {
            vec!["NONE".into()]
        } else {
            h.test.clone()
        }),
        interval: h.interval.as_ref().map(nanos),
        timeout: h.timeout.as_ref().map(nanos),
        retries: h.retries.and_then(|r| i64::try_from(r).ok()),
        start_period: h.start_period.as_ref().map(nanos),
        start_interval: None,
    });
    let has_healthcheck = service
        .healthcheck
        .as_ref()
        .is_some_and(|h| !h.disable && !h.test.is_empty());

    let host_config = HostConfig {
        binds: Some(binds),
        port_bindings: Some(bindings),
        restart_policy,
        log_config: service.logging.as_ref().map(|l| HostConfigLogConfig {
            typ: l.driver.clone(),
            config: Some(
                l.options
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        }),
        sysctls: (!service.sysctls.is_empty()).then(|| {
            service
                .sysctls
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }),
        ulimits: (!service.ulimits.is_empty()).then(|| {
            service
                .ulimits
                .iter()
                .map(|(k, u)| ResourcesUlimits {
                    name: Some(k.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect()
        }),
        extra_hosts: (!service.extra_hosts.is_empty()).then(|| service.extra_hosts.clone()),
        cap_add: (!service.cap_add.is_empty()).then(|| service.cap_add.clone()),
        cap_drop: (!service.cap_drop.is_empty()).then(|| service.cap_drop.clone()),
        dns: (!service.dns.is_empty()).then(|| service.dns.clone()),
        dns_options: (!service.dns_opt.is_empty()).then(|| service.dns_opt.clone()),
        dns_search: (!service.dns_search.is_empty()).then(|| service.dns_search.clone()),
        security_opt: (!service.security_opt.is_empty()).then(|| service.security_opt.clone()),
        tmpfs: (!service.tmpfs.is_empty()).then(|| {
            service
                .tmpfs
                .iter()
                .map(|t| match t.split_once(':') {
                    Some((p, o)) => (p.to_owned(), o.to_owned()),
                    None => (t.clone(), String::new()),
                })
                .collect()
        }),
        privileged: service.privileged,
        init: service.init,
        readonly_rootfs: service.read_only,
        shm_size: service.shm_size,
        memory: service.mem_limit,
        nano_cpus: service.cpus.map(|c| (c * 1e9) as i64),
        pids_limit: service.pids_limit,
        network_mode: primary.as_ref().map(|(n, _)| n.clone()),
        ..HostConfig::default()
    };
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
