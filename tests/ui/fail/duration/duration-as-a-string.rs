// A duration is a token, not a string.
mrs_dsl::deployment! {
    /// Production: mrs.beta.gouv.fr, behind the server's Traefik.
    env: production,
    tier: production,
    host: "mrs.beta.gouv.fr",
    persistent: { home: "/home/mrs-production" },
    overlays: [base, persist, traefik],
    networks: [web],
    services: {
        django: { image: "betagouv/mrs:{IMAGE_TAG}", build: none },
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
        EMAIL_HOST: "smtp.tipimail.com",
        EMAIL_HOST_PASSWORD: secret,
        EMAIL_HOST_USER: "mrs-production",
        EMAIL_PORT: "587",
        EMAIL_USE_SSL: unset,
        EMAIL_USE_TLS: "1",
        DEFAULT_FROM_EMAIL: "mrs@beta.gouv.fr",
        TEAM_EMAIL: "equipe@mrs.beta.gouv.fr",
        SENTRY_AUTH_TOKEN: secret,
        SENTRY_DSN: secret,
        SENTRY_PROJECT: "mrs",
        SENTRY_URL: "https://sentry.io",
    },
    health: { url: "https://www.{HOST}/?test={uuid}", timeout: "2 minutes" },
}
