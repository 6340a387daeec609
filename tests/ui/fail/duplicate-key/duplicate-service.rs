// A service overridden twice: which one is meant?
mrs_dsl::deployment! {
    /// Staging: deployed from master by CI, behind the server's Traefik,
    /// with a test mail server at mail.HOST.
    env: staging,
    tier: staging,
    host: "staging.mrs.beta.gouv.fr",
    persistent: { home: "/home/mrs-staging" },
    overlays: [base, persist, traefik, maildev],
    networks: [web],
    services: {
        django: { image: "betagouv/mrs:{IMAGE_TAG}", build: none },
        django: { build: none },
    },
    vars: {
        /// The image tag CI deploys (the commit).
        IMAGE_TAG: input,
        HOST: "staging.mrs.beta.gouv.fr",
        HOST_SLUG: slug(HOST),
        LISTEN: "256",
        PROTO: "https",
        SECRET_KEY: secret,
        BASICAUTH_DISABLE: unset,
        BASICAUTH_PASSWORD: secret,
        MAINTENANCE_ENABLE: unset,
        EMAIL_HOST_PASSWORD: unset,
        EMAIL_HOST_USER: unset,
        EMAIL_USE_SSL: unset,
        EMAIL_USE_TLS: unset,
        DEFAULT_FROM_EMAIL: "staging@mrs.beta.gouv.fr",
        TEAM_EMAIL: "equipe@mrs.beta.gouv.fr",
        SENTRY_AUTH_TOKEN: unset,
        SENTRY_DSN: unset,
        SENTRY_PROJECT: unset,
        SENTRY_URL: unset,
    },
    health: {
        url: "https://www.{HOST}/?test={uuid}",
        basic_auth: { user: "dev", password: BASICAUTH_PASSWORD },
        unless: BASICAUTH_DISABLE,
        timeout: 60s,
    },
}
