//! The pinned-image rule, shared by the compile-time check and the run-time
//! one (for images that depend on a run-time input), with one wording.

use mrs_compose::image::ImageRef;

use crate::spec::Tier;

/// `Err` with the message when `service` of a `tier` environment may not
/// run `image`: an invalid reference, or a moving tag in a tier that
/// requires pinned images.
pub fn check_pinned(tier: Tier, service: &str, image: &str) -> Result<(), String> {
    let reference = ImageRef::parse(image).map_err(|e| e.to_string())?;
    if tier.requires_pinned_images() && !reference.is_pinned() {
        return Err(moving_tag_message(tier, service, image, &reference));
    }
    Ok(())
}

/// "service `django` runs `betagouv/mrs:master` in a production-tier environment: `master` is a moving tag".
pub fn moving_tag_message(tier: Tier, service: &str, image: &str, reference: &ImageRef) -> String {
    format!(
        "service `{service}` runs `{image}` in a {}-tier environment: `{}` is a moving tag",
        tier.as_str(),
        reference.effective_tag()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_needs_a_pinned_tag() {
        assert!(check_pinned(Tier::Production, "web", "nginx:1.27").is_ok());
        assert_eq!(
            check_pinned(Tier::Production, "web", "nginx"),
            Err("service `web` runs `nginx` in a production-tier environment: `latest` is a moving tag".into())
        );
        assert!(check_pinned(Tier::Staging, "web", "nginx:master").is_ok());
        assert!(check_pinned(Tier::Staging, "web", "NGINX").is_err());
    }
}
