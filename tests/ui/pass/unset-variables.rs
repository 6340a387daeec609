// `unset`: a variable the overlays pass to the container may be deliberately
// left out of it; everything that can be is unset here.
mrs_dsl::deployment! {
    env: bare,
    tier: development,
    persistent: { home: "/tmp/mrs-bare" },
    overlays: [base, persist],
    services: {
        django: { image: "betagouv/mrs:master", build: none, logging: { driver: "json-file" } },
        postgres: { logging: { driver: "json-file" } },
    },
    vars: {
        HOST: "localhost",
        HOST_SLUG: slug(HOST),
        LISTEN: "128",
        SECRET_KEY: secret,
        ALLOWED_HOSTS: unset,
        BASICAUTH_DISABLE: unset,
        PROTO: unset,
        MAINTENANCE_ENABLE: unset,
        EMAIL_HOST: unset,
        EMAIL_HOST_PASSWORD: unset,
        EMAIL_HOST_USER: unset,
        EMAIL_PORT: unset,
        EMAIL_USE_SSL: unset,
        EMAIL_USE_TLS: unset,
        DEFAULT_FROM_EMAIL: unset,
        TEAM_EMAIL: unset,
        SENTRY_AUTH_TOKEN: unset,
        SENTRY_DSN: unset,
        SENTRY_PROJECT: unset,
        SENTRY_URL: unset,
    },
}
