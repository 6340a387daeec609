//! The keys of the Compose Specification, and which of them mrs-deploy's
//! engine applies.
//!
//! [`check`] accepts every key of the specification (a key outside it is an
//! error with a did-you-mean, a file in the legacy format is told so), so
//! that `mrs-dsl config` reads any valid file. [`unsupported`] is the other
//! question, asked where a file becomes an environment (the overlay
//! catalog): the keys the engine does not apply yet, each reported rather
//! than silently ignored. Extension keys (`x-...`) are accepted wherever
//! the specification accepts them.

use crate::error::{Diagnostic, Kind, did_you_mean};
use crate::node::{Node, Value};

/// Whether mrs-deploy's engine applies a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Applied by the engine (or, for `version`, accepted and ignored as compose does).
    Yes,
    /// In the specification, not applied by the engine yet.
    No,
}

/// What is under a key.
#[derive(Clone, Copy, Debug)]
pub enum Child {
    /// A value whose type the typed decode checks.
    Leaf,
    /// An object with known keys (or a string short form).
    Object(&'static Object),
    /// A mapping from names to objects (or null).
    MapOf(&'static Object),
    /// A list whose items are strings or objects.
    ListOf(&'static Object),
    /// A list of names, or a mapping from names to objects.
    ListOrMapOf(&'static Object),
}

/// An object kind of the specification and its keys.
#[derive(Debug)]
pub struct Object {
    /// How errors name this object (`service`, `healthcheck`...).
    pub name: &'static str,
    /// Its keys.
    pub keys: &'static [(&'static str, Support, Child)],
    /// Whether `x-` extension keys are allowed.
    pub extensions: bool,
}

impl Object {
    /// The key's entry, if it is in the specification.
    pub fn key(&self, key: &str) -> Option<(Support, Child)> {
        self.keys
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, s, c)| (*s, *c))
    }

    /// Names of the keys mrs-deploy applies, for suggestions.
    pub fn supported_keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.keys
            .iter()
            .filter(|(_, s, _)| *s == Support::Yes)
            .map(|(k, _, _)| *k)
    }
}

use Child::{Leaf, ListOf, ListOrMapOf, MapOf};
use Support::{No, Yes};

/// An object whose keys all have the same support and are leaves.
macro_rules! object {
    ($(#[$doc:meta])* $name:ident, $label:literal, $support:ident, [$($key:literal),* $(,)?]) => {
        $(#[$doc])*
        pub static $name: Object = Object {
            name: $label,
            extensions: true,
            keys: &[$(($key, $support, Leaf)),*],
        };
    };
}

/// The top level of a compose file.
pub static PROJECT: Object = Object {
    name: "compose file",
    extensions: true,
    keys: &[
        ("version", Yes, Leaf),
        ("name", Yes, Leaf),
        ("services", Yes, MapOf(&SERVICE)),
        ("networks", Yes, MapOf(&NETWORK)),
        ("volumes", Yes, MapOf(&VOLUME)),
        ("secrets", No, MapOf(&SECRET)),
        ("configs", No, MapOf(&CONFIG)),
        ("include", No, ListOf(&INCLUDE)),
        ("models", No, MapOf(&MODEL)),
    ],
};

/// A service.
pub static SERVICE: Object = Object {
    name: "service",
    extensions: true,
    keys: &[
        ("image", Yes, Leaf),
        ("build", Yes, Child::Object(&BUILD)),
        ("command", Yes, Leaf),
        ("entrypoint", Yes, Leaf),
        ("environment", Yes, Leaf),
        ("labels", Yes, Leaf),
        ("ports", Yes, ListOf(&PORT)),
        ("expose", Yes, Leaf),
        ("volumes", Yes, ListOf(&SERVICE_VOLUME)),
        ("networks", Yes, ListOrMapOf(&SERVICE_NETWORK)),
        ("sysctls", Yes, Leaf),
        ("restart", Yes, Leaf),
        ("healthcheck", Yes, Child::Object(&HEALTHCHECK)),
        ("depends_on", Yes, ListOrMapOf(&DEPENDENCY)),
        ("logging", Yes, Child::Object(&LOGGING)),
        ("user", Yes, Leaf),
        ("working_dir", Yes, Leaf),
        ("ulimits", Yes, MapOf(&ULIMIT)),
        ("extra_hosts", Yes, Leaf),
        ("container_name", Yes, Leaf),
        ("hostname", Yes, Leaf),
        ("domainname", Yes, Leaf),
        ("stop_grace_period", Yes, Leaf),
        ("stop_signal", Yes, Leaf),
        ("tty", Yes, Leaf),
        ("stdin_open", Yes, Leaf),
        ("read_only", Yes, Leaf),
        ("cap_add", Yes, Leaf),
        ("cap_drop", Yes, Leaf),
        ("dns", Yes, Leaf),
        ("dns_search", Yes, Leaf),
        ("dns_opt", Yes, Leaf),
        ("privileged", Yes, Leaf),
        ("init", Yes, Leaf),
        ("tmpfs", Yes, Leaf),
        ("shm_size", Yes, Leaf),
        ("security_opt", Yes, Leaf),
        ("mem_limit", Yes, Leaf),
        ("cpus", Yes, Leaf),
        ("pids_limit", Yes, Leaf),
        ("pull_policy", Yes, Leaf),
        ("annotations", No, Leaf),
        ("attach", No, Leaf),
        ("blkio_config", No, Child::Object(&BLKIO_CONFIG)),
        ("cgroup", No, Leaf),
        ("cgroup_parent", No, Leaf),
        ("configs", No, ListOf(&SERVICE_FILE_REF)),
        ("cpu_count", No, Leaf),
        ("cpu_percent", No, Leaf),
        ("cpu_period", No, Leaf),
        ("cpu_quota", No, Leaf),
        ("cpu_rt_period", No, Leaf),
        ("cpu_rt_runtime", No, Leaf),
        ("cpu_shares", No, Leaf),
        ("cpuset", No, Leaf),
        ("credential_spec", No, Child::Object(&CREDENTIAL_SPEC)),
        ("deploy", No, Child::Object(&DEPLOY)),
        ("develop", No, Child::Object(&DEVELOP)),
        ("device_cgroup_rules", No, Leaf),
        ("devices", No, ListOf(&DEVICE)),
        // Read into `environment` by the loader; the engine reads no file.
        ("env_file", No, ListOf(&ENV_FILE)),
        ("extends", No, Child::Object(&EXTENDS)),
        ("external_links", No, Leaf),
        ("gpus", No, ListOf(&DEVICE_REQUEST)),
        ("group_add", No, Leaf),
        ("ipc", No, Leaf),
        ("isolation", No, Leaf),
        ("label_file", No, Leaf),
        ("links", No, Leaf),
        ("mac_address", No, Leaf),
        ("mem_reservation", No, Leaf),
        ("mem_swappiness", No, Leaf),
        ("memswap_limit", No, Leaf),
        ("models", No, ListOrMapOf(&SERVICE_MODEL)),
        ("network_mode", No, Leaf),
        ("oom_kill_disable", No, Leaf),
        ("oom_score_adj", No, Leaf),
        ("pid", No, Leaf),
        ("platform", No, Leaf),
        ("post_start", No, ListOf(&HOOK)),
        ("pre_stop", No, ListOf(&HOOK)),
        ("profiles", No, Leaf),
        ("provider", No, Child::Object(&PROVIDER)),
        ("pull_refresh_after", No, Leaf),
        ("runtime", No, Leaf),
        ("scale", No, Leaf),
        ("secrets", No, ListOf(&SERVICE_FILE_REF)),
        ("storage_opt", No, Leaf),
        ("use_api_socket", No, Leaf),
        ("userns_mode", No, Leaf),
        ("uts", No, Leaf),
        ("volumes_from", No, Leaf),
    ],
};

object!(
    /// `build:` (accepted; nothing is built on a server).
    BUILD, "build", Yes, [
        "context", "dockerfile", "dockerfile_inline", "args", "ssh", "cache_from", "cache_to",
        "additional_contexts", "entitlements", "extra_hosts", "isolation", "labels", "network",
        "no_cache", "platforms", "privileged", "pull", "secrets", "shm_size", "tags", "target",
        "ulimits", "provenance", "sbom",
    ]
);

object!(
    /// `healthcheck:`.
    HEALTHCHECK, "healthcheck", Yes,
    ["test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"]
);

object!(
    /// `logging:`.
    LOGGING, "logging", Yes, ["driver", "options"]
);

object!(
    /// A `depends_on` entry in long form.
    DEPENDENCY, "depends_on entry", Yes, ["condition", "restart", "required"]
);

object!(
    /// A port in long form.
    PORT, "port", Yes,
    ["target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"]
);

/// An `env_file` entry in long form.
pub static ENV_FILE: Object = Object {
    name: "env_file entry",
    extensions: false,
    keys: &[
        ("path", Yes, Leaf),
        ("required", Yes, Leaf),
        ("format", No, Leaf),
    ],
};

/// A service volume in long form.
pub static SERVICE_VOLUME: Object = Object {
    name: "service volume",
    extensions: true,
    keys: &[
        ("type", Yes, Leaf),
        ("source", Yes, Leaf),
        ("target", Yes, Leaf),
        ("read_only", Yes, Leaf),
        ("bind", Yes, Child::Object(&BIND)),
        ("volume", Yes, Child::Object(&VOLUME_OPTIONS)),
        ("tmpfs", No, Child::Object(&TMPFS_OPTIONS)),
        ("image", No, Child::Object(&IMAGE_OPTIONS)),
        ("consistency", Yes, Leaf),
    ],
};

/// `bind:` options of a service volume.
pub static BIND: Object = Object {
    name: "bind options",
    extensions: true,
    keys: &[
        ("create_host_path", Yes, Leaf),
        ("propagation", Yes, Leaf),
        ("selinux", Yes, Leaf),
        ("recursive", No, Leaf),
    ],
};

/// `volume:` options of a service volume.
pub static VOLUME_OPTIONS: Object = Object {
    name: "volume options",
    extensions: true,
    keys: &[
        ("nocopy", Yes, Leaf),
        ("subpath", No, Leaf),
        ("labels", No, Leaf),
    ],
};

object!(
    /// `tmpfs:` options of a service volume.
    TMPFS_OPTIONS, "tmpfs options", No, ["size", "mode"]
);

object!(
    /// `image:` options of a service volume.
    IMAGE_OPTIONS, "image options", No, ["subpath"]
);

/// A service's attachment to a network.
pub static SERVICE_NETWORK: Object = Object {
    name: "service network",
    extensions: true,
    keys: &[
        ("aliases", Yes, Leaf),
        ("ipv4_address", Yes, Leaf),
        ("ipv6_address", Yes, Leaf),
        ("priority", Yes, Leaf),
        ("link_local_ips", No, Leaf),
        ("mac_address", No, Leaf),
        ("driver_opts", No, Leaf),
        ("gw_priority", No, Leaf),
        ("interface_name", No, Leaf),
    ],
};

object!(
    /// A `ulimits` entry in long form.
    ULIMIT, "ulimit", Yes, ["soft", "hard"]
);

/// A top-level network.
pub static NETWORK: Object = Object {
    name: "network",
    extensions: true,
    keys: &[
        ("name", Yes, Leaf),
        ("external", Yes, Leaf),
        ("driver", Yes, Leaf),
        ("driver_opts", Yes, Leaf),
        ("attachable", Yes, Leaf),
        ("internal", Yes, Leaf),
        ("labels", Yes, Leaf),
        ("enable_ipv6", Yes, Leaf),
        ("enable_ipv4", No, Leaf),
        ("ipam", No, Child::Object(&IPAM)),
    ],
};

/// `ipam:` of a network.
pub static IPAM: Object = Object {
    name: "ipam",
    extensions: true,
    keys: &[
        ("driver", No, Leaf),
        ("config", No, ListOf(&IPAM_CONFIG)),
        ("options", No, Leaf),
    ],
};

object!(
    /// An `ipam.config` entry.
    IPAM_CONFIG, "ipam config", No, ["subnet", "ip_range", "gateway", "aux_addresses"]
);

object!(
    /// A top-level volume.
    VOLUME, "volume", Yes, ["name", "external", "driver", "driver_opts", "labels"]
);

object!(
    /// A top-level secret.
    SECRET, "secret", No, [
        "name", "environment", "file", "external", "labels", "driver", "driver_opts",
        "template_driver",
    ]
);

object!(
    /// A top-level config.
    CONFIG, "config", No,
    ["name", "content", "environment", "file", "external", "labels", "template_driver"]
);

object!(
    /// An `include` entry in long form.
    INCLUDE, "include entry", No, ["path", "env_file", "project_directory"]
);

object!(
    /// A top-level model.
    MODEL, "model", No, ["model", "context_size", "runtime_flags"]
);

object!(
    /// A service's use of a model.
    SERVICE_MODEL, "service model", No, ["endpoint_var", "model_var"]
);

object!(
    /// A service's `secrets` or `configs` entry in long form.
    SERVICE_FILE_REF, "secret or config reference", No,
    ["source", "target", "uid", "gid", "mode"]
);

/// `deploy:`.
pub static DEPLOY: Object = Object {
    name: "deploy",
    extensions: true,
    keys: &[
        ("mode", No, Leaf),
        ("endpoint_mode", No, Leaf),
        ("replicas", No, Leaf),
        ("labels", No, Leaf),
        ("rollback_config", No, Child::Object(&UPDATE_CONFIG)),
        ("update_config", No, Child::Object(&UPDATE_CONFIG)),
        ("resources", No, Child::Object(&RESOURCES)),
        ("restart_policy", No, Child::Object(&RESTART_POLICY)),
        ("placement", No, Child::Object(&PLACEMENT)),
    ],
};

object!(
    /// `deploy.update_config` and `deploy.rollback_config`.
    UPDATE_CONFIG, "update config", No,
    ["parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order"]
);

/// `deploy.resources`.
pub static RESOURCES: Object = Object {
    name: "resources",
    extensions: true,
    keys: &[
        ("limits", No, Child::Object(&RESOURCE_LIMITS)),
        ("reservations", No, Child::Object(&RESOURCE_RESERVATIONS)),
    ],
};

object!(
    /// `deploy.resources.limits`.
    RESOURCE_LIMITS, "resource limits", No, ["cpus", "memory", "pids"]
);

/// `deploy.resources.reservations`.
pub static RESOURCE_RESERVATIONS: Object = Object {
    name: "resource reservations",
    extensions: true,
    keys: &[
        ("cpus", No, Leaf),
        ("memory", No, Leaf),
        ("generic_resources", No, Leaf),
        ("devices", No, ListOf(&DEVICE_REQUEST)),
    ],
};

object!(
    /// A device request (`deploy.resources.reservations.devices`, `gpus`).
    DEVICE_REQUEST, "device request", No,
    ["capabilities", "count", "device_ids", "driver", "options"]
);

object!(
    /// `deploy.restart_policy`.
    RESTART_POLICY, "restart policy", No, ["condition", "delay", "max_attempts", "window"]
);

object!(
    /// `deploy.placement`.
    PLACEMENT, "placement", No, ["constraints", "preferences", "max_replicas_per_node"]
);

object!(
    /// `blkio_config:`.
    BLKIO_CONFIG, "blkio_config", No, [
        "device_read_bps", "device_read_iops", "device_write_bps", "device_write_iops",
        "weight", "weight_device",
    ]
);

object!(
    /// `credential_spec:`.
    CREDENTIAL_SPEC, "credential_spec", No, ["config", "file", "registry"]
);

/// `develop:`.
pub static DEVELOP: Object = Object {
    name: "develop",
    extensions: true,
    keys: &[("watch", No, ListOf(&WATCH))],
};

object!(
    /// A `develop.watch` rule.
    WATCH, "watch rule", No,
    ["path", "action", "target", "ignore", "include", "initial_sync", "exec"]
);

object!(
    /// `extends:` in long form.
    EXTENDS, "extends", No, ["service", "file"]
);

object!(
    /// A `post_start` or `pre_stop` hook.
    HOOK, "hook", No, ["command", "user", "privileged", "working_dir", "environment"]
);

object!(
    /// A `devices` entry in long form.
    DEVICE, "device", No, ["source", "target", "permissions"]
);

object!(
    /// `provider:`.
    PROVIDER, "provider", No, ["type", "options"]
);

/// Which question a walk over a file answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Question {
    /// Is every key in the specification?
    Specification,
    /// Does the engine apply every key?
    Engine,
}

/// Checks every key of a compose file against the specification.
pub fn check(root: &Node, errors: &mut Vec<Diagnostic>) {
    match &root.value {
        Value::Map(map) => {
            if let Some(d) = legacy_format(map) {
                errors.push(d);
                return;
            }
            check_object(root, &PROJECT, "", Question::Specification, errors)
        }
        Value::Null => {}
        _ => errors.push(Diagnostic::new(
            Kind::Type,
            root.at.clone(),
            format!("a compose file must be a mapping, found {}", root.kind()),
        )),
    }
}

/// Reports every key of a compose file that mrs-deploy's engine does not
/// apply yet (keys outside the specification are [`check`]'s business).
pub fn unsupported(root: &Node) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    if root.as_map().is_some() {
        check_object(root, &PROJECT, "", Question::Engine, &mut errors);
    }
    errors
}

/// A file of the legacy format (services at the top level, no `services:`).
fn legacy_format(map: &crate::node::Map) -> Option<Diagnostic> {
    if map.contains_key("services") {
        return None;
    }
    let (name, entry) = map.entries().find(|(k, e)| {
        PROJECT.key(k).is_none()
            && !k.starts_with("x-")
            && e.node
                .as_map()
                .is_some_and(|m| m.contains_key("image") || m.contains_key("build"))
    })?;
    Some(
        Diagnostic::new(
            Kind::UnknownKey,
            entry.key_at.clone(),
            format!(
                "`{name}` looks like a service at the top level: this file is in the legacy compose format (version 1), which the Compose Specification no longer reads"
            ),
        )
        .with_help("move the services under a top-level `services:` key"),
    )
}

fn check_object(
    node: &Node,
    object: &'static Object,
    path: &str,
    question: Question,
    errors: &mut Vec<Diagnostic>,
) {
    let Value::Map(map) = &node.value else {
        if question == Question::Specification && !matches!(node.value, Value::Null) {
            errors.push(Diagnostic::new(
                Kind::Type,
                node.at.clone(),
                format!(
                    "{} `{path}` must be a mapping, found {}",
                    object.name,
                    node.kind()
                ),
            ));
        }
        return;
    };
    for (key, entry) in map.entries() {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if key.starts_with("x-") && object.extensions {
            continue;
        }
        match (object.key(key), question) {
            (None, Question::Specification) => {
                let mut d = Diagnostic::new(
                    Kind::UnknownKey,
                    entry.key_at.clone(),
                    format!("`{key}` is not a {} key of the Compose Specification", object.name),
                );
                if let Some(s) = did_you_mean(key, object.keys.iter().map(|(k, _, _)| *k)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else if object.extensions {
                    d = d.with_help("extension fields start with `x-`");
                }
                errors.push(d);
            }
            (None, Question::Engine) => {}
            (Some((Support::No, _)), Question::Engine) => errors.push(
                Diagnostic::new(
                    Kind::Unsupported,
                    entry.key_at.clone(),
                    format!("`{here}`: the {} key `{key}` is in the Compose Specification, but mrs-deploy does not apply it yet", object.name),
                )
                .with_help("remove it, or open an issue so mrs-deploy learns it"),
            ),
            (Some((_, child)), _) => check_child(&entry.node, child, &here, question, errors),
        }
    }
}

fn check_child(
    node: &Node,
    child: Child,
    path: &str,
    question: Question,
    errors: &mut Vec<Diagnostic>,
) {
    match child {
        Leaf => {}
        Child::Object(object) => {
            if node.as_map().is_some() {
                check_object(node, object, path, question, errors);
            }
        }
        MapOf(object) => match &node.value {
            Value::Map(map) => {
                for (name, value) in map.iter() {
                    if name.starts_with("x-") && std::ptr::eq(object, &SERVICE) {
                        continue;
                    }
                    // Short forms (`nproc: 65535`) are the typed decode's business.
                    if value.as_map().is_some() {
                        check_object(value, object, &format!("{path}.{name}"), question, errors);
                    }
                }
            }
            Value::Null => {}
            _ if question == Question::Engine => {}
            _ => errors.push(Diagnostic::new(
                Kind::Type,
                node.at.clone(),
                format!(
                    "`{path}` must be a mapping of names to {}s, found {}",
                    object.name,
                    node.kind()
                ),
            )),
        },
        ListOf(object) => {
            if let Value::Seq(items) = &node.value {
                for (i, item) in items.iter().enumerate() {
                    if item.as_map().is_some() {
                        check_object(item, object, &format!("{path}[{i}]"), question, errors);
                    }
                }
            }
        }
        ListOrMapOf(object) => {
            if let Value::Map(map) = &node.value {
                for (name, value) in map.iter() {
                    check_object(value, object, &format!("{path}.{name}"), question, errors);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load;

    fn errors(text: &str) -> Vec<Diagnostic> {
        let root = load("c.yml", text).expect("yaml");
        let mut errors = Vec::new();
        check(&root, &mut errors);
        errors
    }

    fn engine_errors(text: &str) -> Vec<Diagnostic> {
        unsupported(&load("c.yml", text).expect("yaml"))
    }

    #[test]
    fn unknown_keys_get_a_suggestion_and_a_position() {
        let e = errors("services:\n  django:\n    enviroment: [A=1]\n");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, Kind::UnknownKey);
        assert_eq!(e[0].at.to_string(), "c.yml:3:5");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `environment`?"));
        let e = errors("servics: {}\n");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `services`?"));
    }

    #[test]
    fn the_whole_specification_is_accepted() {
        let text = "name: p\nservices:\n  a:\n    image: x\n    deploy: {replicas: 2, resources: {limits: {memory: 50M}}}\n    secrets: [s, {source: s, target: /x}]\n    profiles: [debug]\n    network_mode: host\n    links: [b]\n    platform: linux/amd64\n    runtime: runc\n    memswap_limit: 1g\n    scale: 2\n    devices: ['/dev/a:/dev/a']\n    annotations: {a: b}\n    models: [m]\n    extends: {service: b}\n    networks: {n: {link_local_ips: [169.254.0.1]}}\n  b: {image: y}\nnetworks:\n  n: {ipam: {driver: default, config: [{subnet: 10.0.0.0/24}]}}\nsecrets:\n  s: {file: ./s.txt}\nconfigs:\n  c: {content: hi}\nmodels:\n  m: {model: ai/x}\ninclude: [other.yml, {path: [a.yml, b.yml], project_directory: .}]\n";
        assert!(errors(text).is_empty(), "{:?}", errors(text));
        // The engine question is separate: each key it does not apply, once.
        let e = engine_errors(text);
        let places: Vec<String> = e
            .iter()
            .map(|d| d.message.split(':').next().unwrap_or_default().to_owned())
            .collect();
        assert!(
            places.contains(&"`services.a.deploy`".to_owned()),
            "{places:?}"
        );
        assert!(
            places.contains(&"`services.a.networks.n.link_local_ips`".to_owned()),
            "{places:?}"
        );
        assert!(
            places.contains(&"`networks.n.ipam`".to_owned()),
            "{places:?}"
        );
        assert!(places.contains(&"`include`".to_owned()), "{places:?}");
        assert!(e.iter().all(|d| d.kind == Kind::Unsupported));
        assert_eq!(e.len(), 19, "{places:?}");
    }

    #[test]
    fn the_legacy_format_is_named() {
        let e = errors("web:\n  image: nginx\n  links: [db]\ndb:\n  image: postgres\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].at.to_string(), "c.yml:1:1");
        assert!(
            e[0].message.contains("legacy compose format"),
            "{}",
            e[0].message
        );
        assert_eq!(
            e[0].help.as_deref(),
            Some("move the services under a top-level `services:` key")
        );
    }

    #[test]
    fn unsupported_keys_are_reported_not_ignored() {
        let e = engine_errors(
            "services:\n  a:\n    image: x\n    deploy: {replicas: 2}\n    healthcheck: {test: [CMD], interval: 1s}\n",
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, Kind::Unsupported);
        assert!(
            e[0].message.contains("`services.a.deploy`"),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn nested_objects_are_checked() {
        let e = errors(
            "services:\n  a:\n    healthcheck: {tset: x}\n    depends_on: {b: {conditon: service_started}}\n    ports: [{target: 80, publish: 8080}]\n",
        );
        let kinds: Vec<_> = e
            .iter()
            .map(|d| d.help.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            kinds,
            [
                "did you mean `test`?",
                "did you mean `condition`?",
                "did you mean `published`?"
            ]
        );
    }

    #[test]
    fn extensions_are_allowed() {
        assert!(
            errors("x-mrs: {a: 1}\nservices:\n  a:\n    x-note: hi\n    image: x\n").is_empty()
        );
    }

    #[test]
    fn a_file_must_be_a_mapping() {
        let e = errors("- a\n");
        assert_eq!(e[0].kind, Kind::Type);
    }
}
