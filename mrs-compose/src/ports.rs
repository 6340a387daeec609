//! Port mappings: compose's short syntax and long form.
//!
//! Short syntax (go-connections `nat.ParsePortSpec`):
//! `[[HOST_IP:]HOST[-HOST_END]:]CONTAINER[-CONTAINER_END][/PROTO]`, with IPv6
//! host addresses in brackets. Ranges expand to one mapping per port; a host
//! range with a single container port is a pool the engine picks from.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// One published (or only exposed) port, in compose's long form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    /// Container port.
    pub target: u16,
    /// Host port or range (`8000`, `8000-8010`); `None` lets the engine choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Host address to bind; `None` is every address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    /// `tcp`, `udp` or `sctp`.
    #[serde(default = "tcp")]
    pub protocol: String,
    /// `ingress` (compose's default) or `host`.
    #[serde(default = "ingress")]
    pub mode: String,
    /// A name for the port (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The application protocol (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

fn tcp() -> String {
    "tcp".into()
}

fn ingress() -> String {
    "ingress".into()
}

impl PortMapping {
    /// The fixed host port, when the mapping publishes exactly one.
    pub fn host_port(&self) -> Option<u16> {
        self.published.as_deref().and_then(|p| p.parse().ok())
    }

    /// Host ports this mapping may bind (a range or pool gives several).
    pub fn host_ports(&self) -> Vec<u16> {
        match self.published.as_deref().map(parse_range) {
            Some(Ok((a, b))) => (a..=b).collect(),
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ip) = &self.host_ip {
            if ip.contains(':') {
                write!(f, "[{ip}]:")?
            } else {
                write!(f, "{ip}:")?
            }
        }
        if let Some(p) = &self.published {
            write!(f, "{p}:")?;
        }
        write!(f, "{}/{}", self.target, self.protocol)
    }
}

/// What is wrong with a port specification, in go-connections' words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Nothing where a port was expected.
    #[error("no port specified: {0}<empty>")]
    Empty(String),
    /// Not `tcp`, `udp` or `sctp`.
    #[error("invalid proto: {0}")]
    Proto(String),
    /// A host address that is not an IP address.
    #[error("invalid IP address: {0}")]
    Ip(String),
    /// A container port that is not a number from 1 to 65535.
    #[error("invalid containerPort: {0}")]
    ContainerPort(String),
    /// A host port that is not a number from 1 to 65535.
    #[error("invalid hostPort: {0}")]
    HostPort(String),
    /// Ranges of different lengths.
    #[error("invalid ranges specified for container and host Ports: {0} and {1}")]
    Ranges(String, String),
    /// Too many `:`.
    #[error("invalid port specification: {0}")]
    Spec(String),
}

/// Parses one short-syntax port specification into its mappings.
pub fn parse_short(spec: &str) -> Result<Vec<PortMapping>, PortError> {
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((rest, proto)) => {
            let proto = proto.to_ascii_lowercase();
            if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
                return Err(PortError::Proto(proto));
            }
            (rest, proto)
        }
        None => (spec, "tcp".to_owned()),
    };
    let (host_ip, rest) = split_ip(rest)?;
    let parts: Vec<&str> = rest.split(':').collect();
    let (host, container) = match parts.as_slice() {
        [container] => (None, *container),
        [host, container] => (Some(*host), *container),
        _ => return Err(PortError::Spec(spec.to_owned())),
    };
    if container.is_empty() {
        return Err(PortError::Empty(spec.to_string()));
    }
    let (c_start, c_end) =
        parse_range(container).map_err(|_| PortError::ContainerPort(container.to_owned()))?;
    let host_range = match host {
        None | Some("") => None,
        Some(h) => Some(parse_range(h).map_err(|_| PortError::HostPort(h.to_owned()))?),
    };
    let count = c_end - c_start;
    let mut out = Vec::new();
    match host_range {
        Some((h_start, h_end)) if h_end - h_start != count => {
            if count == 0 {
                // A pool of host ports for one container port.
                out.push(mapping(
                    c_start,
                    Some(format!("{h_start}-{h_end}")),
                    &host_ip,
                    &protocol,
                ));
            } else {
                return Err(PortError::Ranges(
                    container.to_owned(),
                    host.unwrap_or_default().to_owned(),
                ));
            }
        }
        Some((h_start, _)) => {
            for i in 0..=count {
                out.push(mapping(
                    c_start + i,
                    Some((h_start + i).to_string()),
                    &host_ip,
                    &protocol,
                ));
            }
        }
        None => {
            for i in 0..=count {
                out.push(mapping(c_start + i, None, &host_ip, &protocol));
            }
        }
    }
    Ok(out)
}

fn mapping(
    target: u16,
    published: Option<String>,
    host_ip: &Option<String>,
    protocol: &str,
) -> PortMapping {
    PortMapping {
        target,
        published,
        host_ip: host_ip.clone(),
        protocol: protocol.to_owned(),
        mode: "ingress".into(),
        name: None,
        app_protocol: None,
    }
}

/// Splits off a leading host address (`1.2.3.4:` or `[::1]:`) when there is one.
fn split_ip(spec: &str) -> Result<(Option<String>, &str), PortError> {
    if let Some(rest) = spec.strip_prefix('[') {
        let (ip, rest) = rest
            .split_once(']')
            .ok_or_else(|| PortError::Ip(spec.to_owned()))?;
        let rest = rest
            .strip_prefix(':')
            .ok_or_else(|| PortError::Spec(spec.to_owned()))?;
        ip.parse::<IpAddr>()
            .map_err(|_| PortError::Ip(ip.to_owned()))?;
        return Ok((Some(ip.to_owned()), rest));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() == 3 {
        let ip = parts[0];
        if ip.is_empty() {
            return Ok((None, &spec[1..]));
        }
        ip.parse::<IpAddr>()
            .map_err(|_| PortError::Ip(ip.to_owned()))?;
        return Ok((Some(ip.to_owned()), &spec[ip.len() + 1..]));
    }
    Ok((None, spec))
}

/// A port or range that is not `N` or `N-M` with 1 <= N <= M <= 65535.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid port or range `{0}`")]
pub struct RangeError(pub String);

/// Parses `N` or `N-M` (1..=65535, N <= M).
pub fn parse_range(text: &str) -> Result<(u16, u16), RangeError> {
    let err = || RangeError(text.to_owned());
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let a: u16 = a.parse().map_err(|_| err())?;
    let b: u16 = b.parse().map_err(|_| err())?;
    if a == 0 || b < a {
        return Err(err());
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> PortMapping {
        let mut v = parse_short(spec).expect("valid");
        assert_eq!(v.len(), 1, "{spec}");
        v.remove(0)
    }

    #[test]
    fn short_forms() {
        let p = one("8000:8000");
        assert_eq!(
            (p.target, p.published.as_deref(), p.host_ip.as_deref()),
            (8000, Some("8000"), None)
        );
        let p = one("127.0.0.1:8080:80/udp");
        assert_eq!(
            (
                p.target,
                p.host_port(),
                p.host_ip.as_deref(),
                p.protocol.as_str()
            ),
            (80, Some(8080), Some("127.0.0.1"), "udp")
        );
        let p = one("[::1]:8080:80");
        assert_eq!(p.host_ip.as_deref(), Some("::1"));
        assert_eq!(p.to_string(), "[::1]:8080:80/tcp");
        let p = one("80");
        assert_eq!((p.target, p.published), (80, None));
        let p = one("8000-8010:80");
        assert_eq!(p.published.as_deref(), Some("8000-8010"));
        assert_eq!(p.host_ports().len(), 11);
        assert_eq!(parse_short("8000-8002:9000-9002").expect("range").len(), 3);
        assert_eq!(one("80/TCP").protocol, "tcp");
    }

    #[test]
    fn errors_use_compose_wording() {
        assert_eq!(parse_short("80/xyz"), Err(PortError::Proto("xyz".into())));
        assert_eq!(
            parse_short("1.2.3:80:80"),
            Err(PortError::Ip("1.2.3".into()))
        );
        assert_eq!(
            parse_short("8000:70000"),
            Err(PortError::ContainerPort("70000".into()))
        );
        assert_eq!(parse_short("0:80"), Err(PortError::HostPort("0".into())));
        assert_eq!(
            parse_short("8000-8001:80-82"),
            Err(PortError::Ranges("80-82".into(), "8000-8001".into()))
        );
        assert!(matches!(parse_short("1:2:3:4"), Err(PortError::Spec(_))));
        assert!(parse_short("").is_err());
    }
}
