//! The project in the forms docker-compose 1.29 (the Python v1 Debian
//! ships) reads: its bundled copy of the Compose Specification schema is
//! older and stricter. What it has another form for is converted (a port
//! with `host_ip` becomes the short syntax, bind mounts the short syntax,
//! `depends_on.required: true` is dropped, memory amounts become strings);
//! what it cannot express at all is refused, naming the key.

use serde_json::{Map, Value};

/// The keys docker-compose 1.29 reads, per object (its `compose_spec.json`).
const PROJECT: &[&str] = &["services", "networks", "volumes", "secrets", "configs"];
const SERVICE: &[&str] = &[
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "privileged",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "userns_mode",
    "volumes",
    "volumes_from",
    "working_dir",
];
const BUILD: &[&str] = &[
    "args",
    "cache_from",
    "context",
    "dockerfile",
    "extra_hosts",
    "isolation",
    "labels",
    "network",
    "shm_size",
    "target",
];
const HEALTHCHECK: &[&str] = &[
    "disable",
    "interval",
    "retries",
    "start_period",
    "test",
    "timeout",
];
const SERVICE_NETWORK: &[&str] = &[
    "aliases",
    "ipv4_address",
    "ipv6_address",
    "link_local_ips",
    "priority",
];
const DEPLOY: &[&str] = &[
    "endpoint_mode",
    "labels",
    "mode",
    "placement",
    "replicas",
    "resources",
    "restart_policy",
    "rollback_config",
    "update_config",
];
const LIMITS: &[&str] = &["cpus", "memory"];
const RESERVATIONS: &[&str] = &["cpus", "memory", "generic_resources", "devices"];
const NETWORK: &[&str] = &[
    "attachable",
    "driver",
    "driver_opts",
    "enable_ipv6",
    "external",
    "internal",
    "ipam",
    "labels",
    "name",
];
const VOLUME: &[&str] = &["driver", "driver_opts", "external", "labels", "name"];
const SECRET: &[&str] = &[
    "driver",
    "driver_opts",
    "external",
    "file",
    "labels",
    "name",
    "template_driver",
];
const CONFIG: &[&str] = &["external", "file", "labels", "name", "template_driver"];

/// Converts `project` (compose's canonical JSON) in place.
pub fn convert(project: &mut Value) -> Result<(), String> {
    let Some(root) = project.as_object_mut() else {
        return Ok(());
    };
    root.remove("name");
    only(root, PROJECT, "")?;
    for (name, service) in objects(root, "services") {
        service_v1(service, &format!("services.{name}"))?;
    }
    for (section, keys) in [
        ("networks", NETWORK),
        ("volumes", VOLUME),
        ("secrets", SECRET),
        ("configs", CONFIG),
    ] {
        for (name, object) in objects(root, section) {
            if section == "networks" && object.get("enable_ipv4") == Some(&Value::Bool(true)) {
                object.remove("enable_ipv4");
            }
            only(object, keys, &format!("{section}.{name}"))?;
        }
    }
    Ok(())
}

/// The objects of a section, by name.
fn objects<'a>(
    root: &'a mut Map<String, Value>,
    section: &str,
) -> impl Iterator<Item = (String, &'a mut Map<String, Value>)> {
    root.get_mut(section)
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|m| m.iter_mut())
        .filter_map(|(k, v)| v.as_object_mut().map(|o| (k.clone(), o)))
}

/// Refuses the first key outside `keys` (extension fields are fine).
fn only(object: &Map<String, Value>, keys: &[&str], path: &str) -> Result<(), String> {
    match object
        .keys()
        .find(|k| !k.starts_with("x-") && !keys.contains(&k.as_str()))
    {
        Some(k) => Err(format!("it has no `{}`", join(path, k))),
        None => Ok(()),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn service_v1(service: &mut Map<String, Value>, path: &str) -> Result<(), String> {
    only(service, SERVICE, path)?;
    if let Some(build) = service.get("build").and_then(Value::as_object) {
        only(build, BUILD, &join(path, "build"))?;
    }
    if let Some(h) = service.get("healthcheck").and_then(Value::as_object) {
        only(h, HEALTHCHECK, &join(path, "healthcheck"))?;
    }
    for (name, network) in objects(service, "networks") {
        only(network, SERVICE_NETWORK, &format!("{path}.networks.{name}"))?;
    }
    for (name, dep) in objects(service, "depends_on") {
        dependency(dep, &format!("{path}.depends_on.{name}"))?;
    }
    if let Some(ports) = service.get_mut("ports").and_then(Value::as_array_mut) {
        for (i, port) in ports.iter_mut().enumerate() {
            port_v1(port, &format!("{path}.ports[{i}]"))?;
        }
    }
    if let Some(volumes) = service.get_mut("volumes").and_then(Value::as_array_mut) {
        for (i, volume) in volumes.iter_mut().enumerate() {
            volume_v1(volume, &format!("{path}.volumes[{i}]"))?;
        }
    }
    if let Some(devices) = service.get("devices").and_then(Value::as_array)
        && devices.iter().any(|d| !d.is_string())
    {
        return Err(format!(
            "it reads `{path}.devices` only in the short syntax"
        ));
    }
    if let Some(deploy) = service.get_mut("deploy").and_then(Value::as_object_mut) {
        deploy_v1(deploy, &join(path, "deploy"))?;
    }
    Ok(())
}

/// `required: true` and `restart: false` are what that version always does.
fn dependency(dep: &mut Map<String, Value>, path: &str) -> Result<(), String> {
    if dep.get("required") == Some(&Value::Bool(true)) {
        dep.remove("required");
    }
    if dep.get("restart") == Some(&Value::Bool(false)) {
        dep.remove("restart");
    }
    only(dep, &["condition"], path)
}

/// Long form with an integer `published`, or the short syntax for what the
/// long form of that version lacks (`host_ip`, ranges).
fn port_v1(port: &mut Value, path: &str) -> Result<(), String> {
    let Some(p) = port.as_object_mut() else {
        return Ok(());
    };
    if p.get("mode").and_then(Value::as_str) == Some("ingress") {
        p.remove("mode");
    }
    only(
        p,
        &["target", "published", "protocol", "host_ip", "mode"],
        path,
    )?;
    let published = p
        .get("published")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let single = published.as_deref().and_then(|s| s.parse::<u16>().ok());
    if p.contains_key("host_ip") || (published.is_some() && single.is_none()) {
        if p.contains_key("mode") {
            return Err(format!(
                "it cannot combine `{path}.mode` with `host_ip` or a range"
            ));
        }
        let target = p.get("target").cloned().unwrap_or(Value::Null);
        let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("tcp");
        let host_ip = match p.get("host_ip").and_then(Value::as_str) {
            Some(ip) if ip.contains(':') => format!("[{ip}]:"),
            Some(ip) => format!("{ip}:"),
            None => String::new(),
        };
        let published = published.map(|p| format!("{p}:")).unwrap_or_default();
        *port = Value::String(format!("{host_ip}{published}{target}/{protocol}"));
        return Ok(());
    }
    if let Some(n) = single {
        p.insert("published".into(), Value::from(n));
    }
    Ok(())
}

/// Bind mounts in the short syntax (the only one in which that version
/// creates a missing host folder, as compose's `create_host_path` does).
fn volume_v1(volume: &mut Value, path: &str) -> Result<(), String> {
    let Some(v) = volume.as_object_mut() else {
        return Ok(());
    };
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match kind.as_str() {
        "bind" => {
            let mut modes = vec![if v.get("read_only") == Some(&Value::Bool(true)) {
                "ro".to_owned()
            } else {
                "rw".to_owned()
            }];
            if let Some(bind) = v.get("bind").and_then(Value::as_object) {
                if bind.get("create_host_path") == Some(&Value::Bool(false)) {
                    return Err(format!(
                        "it always creates a missing bind source (`{path}.bind.create_host_path: false`)"
                    ));
                }
                only(
                    bind,
                    &["create_host_path", "propagation", "selinux"],
                    &join(path, "bind"),
                )?;
                modes.extend(
                    ["selinux", "propagation"]
                        .iter()
                        .filter_map(|k| bind.get(*k).and_then(Value::as_str).map(str::to_owned)),
                );
            }
            only(
                v,
                &[
                    "type",
                    "source",
                    "target",
                    "read_only",
                    "bind",
                    "consistency",
                ],
                path,
            )?;
            let source = v.get("source").and_then(Value::as_str).unwrap_or_default();
            let target = v.get("target").and_then(Value::as_str).unwrap_or_default();
            *volume = Value::String(format!("{source}:{target}:{}", modes.join(",")));
        }
        "volume" => {
            if let Some(options) = v.get("volume").and_then(Value::as_object) {
                only(options, &["nocopy"], &join(path, "volume"))?;
            }
            only(
                v,
                &[
                    "type",
                    "source",
                    "target",
                    "read_only",
                    "volume",
                    "consistency",
                ],
                path,
            )?;
        }
        "tmpfs" => {
            if let Some(options) = v.get("tmpfs").and_then(Value::as_object) {
                only(options, &["size"], &join(path, "tmpfs"))?;
            }
            only(
                v,
                &["type", "target", "read_only", "tmpfs", "consistency"],
                path,
            )?;
        }
        other => return Err(format!("it has no `{other}` mounts (`{path}`)")),
    }
    Ok(())
}

fn deploy_v1(deploy: &mut Map<String, Value>, path: &str) -> Result<(), String> {
    only(deploy, DEPLOY, path)?;
    let resources = deploy.get_mut("resources").and_then(Value::as_object_mut);
    for (key, keys) in [("limits", LIMITS), ("reservations", RESERVATIONS)] {
        let Some(amounts) = resources
            .as_ref()
            .and_then(|r| r.get(key))
            .and_then(Value::as_object)
        else {
            continue;
        };
        only(amounts, keys, &format!("{path}.resources.{key}"))?;
    }
    if let Some(resources) = resources {
        for key in ["limits", "reservations"] {
            // That version reads memory amounts as strings only.
            if let Some(memory) = resources
                .get_mut(key)
                .and_then(Value::as_object_mut)
                .and_then(|a| a.get_mut("memory"))
                && let Value::Number(n) = memory
            {
                *memory = Value::String(n.to_string());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_what_v1_has_another_form_for() {
        let mut p = json!({
            "name": "p",
            "services": {"a": {
                "ports": [
                    {"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"},
                    {"target": 53, "published": "5353", "host_ip": "127.0.0.1", "protocol": "udp", "mode": "ingress"},
                    {"target": 90, "published": "9000-9010", "protocol": "tcp", "mode": "ingress"}
                ],
                "volumes": [{"type": "bind", "source": "/h", "target": "/c", "read_only": true, "bind": {"create_host_path": true, "selinux": "z"}}],
                "depends_on": {"b": {"condition": "service_healthy", "required": true, "restart": false}},
                "deploy": {"resources": {"limits": {"memory": 52428800, "cpus": 0.5}}}
            }}
        });
        convert(&mut p).expect("expressible");
        let a = &p["services"]["a"];
        assert!(p.get("name").is_none());
        assert_eq!(
            a["ports"][0],
            json!({"target": 80, "published": 8080, "protocol": "tcp"})
        );
        assert_eq!(a["ports"][1], json!("127.0.0.1:5353:53/udp"));
        assert_eq!(a["ports"][2], json!("9000-9010:90/tcp"));
        assert_eq!(a["volumes"][0], json!("/h:/c:ro,z"));
        assert_eq!(
            a["depends_on"]["b"],
            json!({"condition": "service_healthy"})
        );
        assert_eq!(
            a["deploy"]["resources"]["limits"]["memory"],
            json!("52428800")
        );
    }

    #[test]
    fn refuses_what_v1_cannot_express() {
        for (service, key) in [
            (
                json!({"depends_on": {"b": {"condition": "service_started", "required": false}}}),
                "services.a.depends_on.b.required",
            ),
            (json!({"annotations": {"x": "y"}}), "services.a.annotations"),
            (
                json!({"healthcheck": {"start_interval": "1s"}}),
                "services.a.healthcheck.start_interval",
            ),
            (
                json!({"ports": [{"target": 80, "name": "web", "protocol": "tcp", "mode": "ingress"}]}),
                "services.a.ports[0].name",
            ),
            (
                json!({"build": {"context": "/c", "ssh": ["default"]}}),
                "services.a.build.ssh",
            ),
            (
                json!({"deploy": {"resources": {"limits": {"pids": 5}}}}),
                "services.a.deploy.resources.limits.pids",
            ),
        ] {
            let mut p = json!({"services": {"a": service}});
            let e = convert(&mut p).expect_err(key);
            assert!(e.contains(&format!("`{key}")), "{key}: {e}");
        }
        let mut p = json!({"services": {}, "models": {"m": {}}});
        assert!(convert(&mut p).expect_err("models").contains("`models`"));
    }
}
