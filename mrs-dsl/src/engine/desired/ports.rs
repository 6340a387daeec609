//! The ports aspect: exposed ports and host bindings, as compose sends them.

use std::collections::HashMap;

use bollard::models::PortBinding;
use mrs_compose::model::Service;

/// Host bindings by `port/proto`.
pub type Bindings = HashMap<String, Option<Vec<PortBinding>>>;

/// `ExposedPorts` (expose + published targets) and `PortBindings`.
pub fn ports(service: &Service) -> (Vec<String>, Bindings) {
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

    (exposed, bindings)
}
