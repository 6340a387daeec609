//! The networks aspect: which networks a container joins, with its aliases
//! (service name, container name, then the service's own), by priority.

use mrs_compose::model::Service;

use super::DesiredNetwork;

/// `(engine network name, aliases)`, the first one attached at create.
pub fn attachments(
    service: &Service,
    service_name: &str,
    name: &str,
    networks: &[DesiredNetwork],
) -> Vec<(String, Vec<String>)> {
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
        let mut aliases = vec![service_name.to_owned(), name.to_owned()];
        if let Some(Some(n)) = service.networks.get(key) {
            aliases.extend(n.aliases.iter().cloned());
        }
        attached.push((engine_name, aliases));
    }
    attached
}
