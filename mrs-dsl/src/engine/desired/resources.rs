//! The host aspect: restart policy, logging, kernel settings, limits,
//! capabilities, DNS, tmpfs, and where the mounts and ports go.

use bollard::models::{
    HostConfig, HostConfigLogConfig, ResourcesUlimits, RestartPolicy, RestartPolicyNameEnum,
};
use mrs_compose::model::Service;

use super::ports::Bindings;

/// The `HostConfig` of a service's container.
pub fn host_config(
    service: &Service,
    binds: Vec<String>,
    bindings: Bindings,
    network_mode: Option<String>,
) -> HostConfig {
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

    HostConfig {
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
        network_mode,
        ..HostConfig::default()
    }
}
