//! The HTTP check run after `up`.

use crate::ctxt::{Ctxt, Message};
use crate::lower::Lowered;
use crate::rules;

/// The URL is an http(s) URL (its variables are checked with the others).
pub fn check_url(cx: &Ctxt, m: &Lowered<'_>) {
    let Some(url) = m.env.health.as_ref().and_then(|h| h.url.as_ref()) else {
        return;
    };
    if !(url.text.starts_with("http://") || url.text.starts_with("https://")) {
        cx.error(
            url.span,
            Message::new(
                rules::HEALTH_URL,
                "the health URL must start with http:// or https://",
            )
            .help("write the whole URL, like \"http://{HOST}/\""),
        );
    }
}

/// A check that may not wait at all can never pass.
pub fn check_timeout(cx: &Ctxt, m: &Lowered<'_>) {
    if let Some((0, span)) = m.env.health.as_ref().and_then(|h| h.timeout) {
        cx.error(
            span,
            Message::new(
                rules::HEALTH_TIMEOUT,
                "a health check needs a timeout longer than 0",
            )
            .help(format!(
                "leave `timeout` out for the default ({}s), or give the time the application takes to start",
                mrs_env::spec::HealthSpec::DEFAULT_TIMEOUT_SECS
            )),
        );
    }
}

/// The expected status is an HTTP status.
pub fn check_expect(cx: &Ctxt, m: &Lowered<'_>) {
    if let Some((code, span)) = m.env.health.as_ref().and_then(|h| h.expect)
        && !(100..600).contains(&code)
    {
        cx.error(
            span,
            Message::new(
                rules::HEALTH_EXPECT,
                "`expect` must be an HTTP status from 100 to 599",
            ),
        );
    }
}

/// `connect_to` is `host:port`.
pub fn check_connect_to(cx: &Ctxt, m: &Lowered<'_>) {
    let Some(c) = m.env.health.as_ref().and_then(|h| h.connect_to) else {
        return;
    };
    let v = c.value();
    let ok = v
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !ok {
        cx.error(
            c.span(),
            Message::new(
                rules::HEALTH_CONNECT_TO,
                format!("`connect_to` must be `host:port`, found `{v}`"),
            )
            .help(
                "give the address to connect to instead of the URL's host, like \"127.0.0.1:8000\"",
            ),
        );
    }
}
