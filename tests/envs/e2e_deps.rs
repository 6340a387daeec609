mrs_dsl::deployment! {
    /// django waits for a healthy postgres: `depends_on` with
    /// `service_healthy`, for the end-to-end tests. No published port, no
    /// persist overlay: postgres keeps its data in an anonymous volume.
    env: e2e_deps,
    tier: development,
    persistent: { home: "/tmp/mrs-e2e-deps" },
    overlays: [base],
    services: {
        django: {
            image: "betagouv/mrs:master",
            build: none,
            logging: { driver: "json-file" },
            depends_on: { postgres: { condition: "service_healthy" } },
        },
        postgres: {
            logging: { driver: "json-file" },
            // Changing REV recreates postgres, whose data is in the image's anonymous volume.
            labels: { "e2e.rev": "{REV}" },
            healthcheck: {
                test: ["CMD", "pg_isready", "-U", "django", "-d", "mrs"],
                interval: "1s",
                retries: 30,
            },
        },
    },
    vars: {
        /// A revision label on postgres: change it to recreate postgres.
        REV: input,
        ALLOWED_HOSTS: "localhost",
        BASICAUTH_DISABLE: "1",
        HOST: "localhost",
        LISTEN: "128",
        PROTO: "http",
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
