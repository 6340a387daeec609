// A home inside ecole's home, on ecole's host: one would write into the other's data.
mrs_dsl::deployment! {
    /// Ecole: the training instance, on the staging server, treated like
    /// production (real mail, pinned images).
    env: ecole_demo,
    tier: production,
    host: "staging.mrs.beta.gouv.fr",
    persistent: { home: "/home/mrs-ecole/demo", project: "mrs-ecole-demo" },
    overlays: [base, persist, traefik],
    networks: [web],
    services: {
        django: { image: "betagouv/mrs:{IMAGE_TAG}", build: none },
    },
    vars: {
        /// The image tag to deploy: a commit, never a branch name.
        IMAGE_TAG: input,
        HOST: "ecole.mrs.beta.gouv.fr",
        HOST_SLUG: slug(HOST),
        LISTEN: "256",
        PROTO: "https",
        SECRET_KEY: secret,
        BASICAUTH_DISABLE: unset,
        BASICAUTH_PASSWORD: secret,
        MAINTENANCE_ENABLE: unset,
        EMAIL_HOST: "smtp.tipimail.com",
        EMAIL_HOST_PASSWORD: secret,
        EMAIL_HOST_USER: "mrs-ecole",
        EMAIL_PORT: "587",
        EMAIL_USE_SSL: unset,
        EMAIL_USE_TLS: "1",
        DEFAULT_FROM_EMAIL: "ecole@mrs.beta.gouv.fr",
        TEAM_EMAIL: "equipe@mrs.beta.gouv.fr",
        SENTRY_AUTH_TOKEN: unset,
        SENTRY_DSN: secret,
        SENTRY_PROJECT: "mrs-ecole",
        SENTRY_URL: "https://sentry.io",
    },
    health: {
        url: "https://www.{HOST}/?test={uuid}",
        basic_auth: { user: "dev", password: BASICAUTH_PASSWORD },
        unless: BASICAUTH_DISABLE,
        timeout: 60s,
    },
}
