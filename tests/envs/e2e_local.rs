mrs_dsl::deployment! {
    /// `local` with django's image, entrypoint mode and allowed hosts taken at
    /// run time, so the end-to-end tests can change them between deployments.
    env: e2e_local,
    tier: development,
    persistent: { home: "/tmp/testmrs" },
    overlays: [base, persist],
    services: {
        django: {
            image: "{IMAGE}",
            build: none,
            ports: ["8000:8000"],
            entrypoint: ["/usr/local/bin/mrs-standin", "{DJANGO_MODE}"],
            logging: { driver: "json-file" },
        },
        postgres: { logging: { driver: "json-file" } },
    },
    vars: {
        /// django's image.
        IMAGE: input,
        /// The stand-in's mode: `app`, or anything else to exit at once.
        DJANGO_MODE: input,
        /// Host names django answers.
        ALLOWED_HOSTS: input,
        HOST: "localhost:8000",
        HOST_SLUG: slug(HOST),
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
    health: { url: "http://{HOST}/?test={uuid}", timeout: 30s },
}
