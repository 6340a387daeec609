// A duration is one token: `7d`, not `7 days`.
mrs_dsl::deployment! {
    /// One review environment per branch, on the staging server behind
    /// Traefik, with a test mail server; removed a week after its last deploy.
    env: review,
    tier: review,
    host: "staging.mrs.beta.gouv.fr",
    ephemeral: { project: "test-{BRANCH_SLUG}", root: "/srv/mrs-review", lifetime: 7 days },
    overlays: [base, traefik, maildev],
    networks: [web],
    services: {
        django: { image: "betagouv/mrs:{IMAGE_TAG}", build: none },
    },
    vars: {
        /// The git branch to deploy.
        BRANCH: input,
        BRANCH_SLUG: slug(BRANCH),
        /// The image tag CI built for the branch.
        IMAGE_TAG: input,
        HOST: format("{BRANCH_SLUG}.review.mrs.beta.gouv.fr"),
        HOST_SLUG: slug(HOST),
        LISTEN: "128",
        PROTO: "https",
        BASICAUTH_DISABLE: unset,
        BASICAUTH_PASSWORD: "dev",
        MAINTENANCE_ENABLE: unset,
        EMAIL_HOST_PASSWORD: unset,
        EMAIL_HOST_USER: unset,
        EMAIL_USE_SSL: unset,
        EMAIL_USE_TLS: unset,
        DEFAULT_FROM_EMAIL: "review@mrs.beta.gouv.fr",
        TEAM_EMAIL: "review@mrs.beta.gouv.fr",
        SENTRY_AUTH_TOKEN: unset,
        SENTRY_DSN: unset,
        SENTRY_PROJECT: unset,
        SENTRY_URL: unset,
    },
    health: {
        url: "https://www.{HOST}/?test={uuid}",
        basic_auth: { user: "dev", password: BASICAUTH_PASSWORD },
        unless: BASICAUTH_DISABLE,
        timeout: 120s,
    },
}
