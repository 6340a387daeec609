//! Images: references are well-formed; production-tier environments run a
//! pinned tag or a digest (a moving tag like `master` changes what runs
//! without a deployment), unless the DSL waives it with `unpinned: "why"`.
//! Images that depend on a run-time input are checked again at run time
//! ([`mrs_env::images::check_pinned`], the same rule and wording).

use crate::ctxt::{Ctxt, Message};
use crate::lower::{Image, Lowered};
use crate::rules;

fn waiver<'a>(m: &'a Lowered<'_>, service: &str) -> Option<&'a syn::LitStr> {
    m.env
        .services
        .iter()
        .find(|s| s.name.name == service)
        .and_then(|s| s.unpinned)
}

/// An image reference follows the distribution grammar.
pub fn check_references(cx: &Ctxt, m: &Lowered<'_>) {
    for Image { at, parsed, .. } in &m.images {
        if let Err(e) = parsed {
            cx.error(
                m.spans.span(at),
                m.spans
                    .message(rules::IMAGE_REFERENCE, e, "here", at, &m.text),
            );
        }
    }
}

/// Production-tier environments deploy a pinned tag or a digest.
pub fn check_pinned(cx: &Ctxt, m: &Lowered<'_>) {
    let Some((tier, _)) = m.env.tier else {
        return;
    };
    for Image {
        service: name,
        image,
        at,
        deferred,
        parsed,
    } in &m.images
    {
        let Ok(reference) = parsed else { continue };
        if *deferred || waiver(m, name).is_some() || m.meant_for(name) {
            continue;
        }
        if mrs_env::images::check_pinned(tier, name, &image.replace("$$", "$")).is_err() {
            let message = mrs_env::images::moving_tag_message(tier, name, image, reference);
            cx.error(
                m.spans.span(at),
                m.spans
                    .message(rules::IMAGE_PINNED, message, "image set here", at, &m.text)
                    .help(format!(
                        "pin it (`{0}:<commit>`), take the tag at run time (`\"{0}:{{IMAGE_TAG}}\"`), or waive with `unpinned: \"why\"`",
                        reference.repository
                    )),
            );
        }
    }
}

/// `unpinned` waives the pinned-image rule: it says why, and only where
/// there is a moving tag to waive.
pub fn check_waivers(cx: &Ctxt, m: &Lowered<'_>) {
    for service in &m.env.services {
        let Some(reason) = service.unpinned else {
            continue;
        };
        if reason.value().trim().is_empty() {
            cx.error(
                reason.span(),
                Message::new(
                    rules::UNPINNED_WAIVER,
                    "`unpinned` needs the reason a moving tag is acceptable here",
                ),
            );
        }
    }
    let Some((tier, _)) = m.env.tier else {
        return;
    };
    for Image {
        service: name,
        image,
        deferred,
        parsed,
        ..
    } in &m.images
    {
        let (Some(w), Ok(reference)) = (waiver(m, name), parsed) else {
            continue;
        };
        if !tier.requires_pinned_images() {
            cx.error(
                w.span(),
                Message::new(
                    rules::UNPINNED_WAIVER,
                    format!(
                        "`unpinned` waives the pinned-image rule of production-tier environments; this one is {}",
                        tier.as_str()
                    ),
                )
                .help("remove `unpinned`"),
            );
        } else if !deferred && reference.is_pinned() {
            cx.error(
                w.span(),
                Message::new(
                    rules::UNPINNED_WAIVER,
                    format!("`{image}` is already pinned; remove `unpinned`"),
                ),
            );
        }
    }
}
