// `maildev` says `forbids: {tiers: [production]}`.
// (Its image is pinned and EMAIL_HOST/EMAIL_PORT left to it, so that only the tier rule breaks.)
mrs_dsl::deployment! {
    env: production,
    tier: production,
    host: "mrs.beta.gouv.fr",
    persistent: { home: "/home/mrs-production" },
    overlays: [base, persist, traefik, maildev],
    networks: [web],
    services: {
        django: { image: "betagouv/mrs:{IMAGE_TAG}", build: none },
        mail: { image: "djfarrelly/maildev:1.1.0" },
    },
    vars: {
        /// The image tag to deploy: a commit, never a branch name.
        IMAGE_TAG: input,
        HOST: "mrs.beta.gouv.fr",
        HOST_SLUG: slug(HOST),
        LISTEN: "1024",
        PROTO: "https",
        SECRET_KEY: secret,
        BASICAUTH_DISABLE: "1",
        MAINTENANCE_ENABLE: unset,
        EMAIL_HOST_PASSWORD: secret,
        EMAIL_HOST_USER: "mrs-production",
        EMAIL_USE_SSL: unset,
        EMAIL_USE_TLS: "1",
        DEFAULT_FROM_EMAIL: "mrs@beta.gouv.fr",
        TEAM_EMAIL: "equipe@mrs.beta.gouv.fr",
        SENTRY_AUTH_TOKEN: secret,
        SENTRY_DSN: secret,
        SENTRY_PROJECT: "mrs",
        SENTRY_URL: "https://sentry.io",
    },
    health: { url: "https://www.{HOST}/?test={uuid}", timeout: 120s },
}
