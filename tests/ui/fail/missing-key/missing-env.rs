// `env: NAME` is required.
mrs_dsl::deployment! {
    tier: development,
    persistent: { home: "/tmp/testmrs" },
    overlays: [base, persist],
    services: {
        django: {
            image: "betagouv/mrs:master",
            build: none,
            ports: ["8000:8000"],
            // A developer's machine has no journald.
            logging: { driver: "json-file" },
        },
        postgres: { logging: { driver: "json-file" } },
    },
    vars: {
        HOST: "localhost:8000",
        HOST_SLUG: slug(HOST),
        ALLOWED_HOSTS: "127.0.0.1,localhost",
        BASICAUTH_DISABLE: "1",
        LISTEN: "128",
        PROTO: "http",
        SECRET_KEY: secret,
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
    health: { url: "http://{HOST}/?test={uuid}", timeout: 60s },
}
