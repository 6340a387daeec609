//! The health aspect: the engine's health check config, as compose maps it.

use bollard::models::HealthConfig;
use mrs_compose::model::Service;

fn nanos(d: &mrs_compose::duration::GoDuration) -> i64 {
    i64::try_from(d.0.as_nanos()).unwrap_or(i64::MAX)
}

/// The health config, and whether there is a check to wait for.
pub fn healthcheck(service: &Service) -> (Option<HealthConfig>, bool) {
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

    (healthcheck, has_healthcheck)
}
