// `input("help")`: the help says what to give when the value is missing at
// run time. Also: an explicit project name, a number as a value, a format of
// an input, and a health check with `connect_to`.
mrs_dsl::deployment! {
    env: local,
    tier: development,
    persistent: { home: "/tmp/testmrs", project: "testmrs" },
    overlays: [base, persist],
    services: {
        django: {
            image: "betagouv/mrs:{IMAGE_TAG}",
            build: none,
            ports: ["127.0.0.1:8000:8000"],
            logging: { driver: "json-file" },
        },
        postgres: { logging: { driver: "json-file" } },
    },
    vars: {
        IMAGE_TAG: input("the image tag to run, e.g. a commit"),
        HOST: input("the host name the site answers to"),
        HOST_SLUG: slug(HOST),
        ALLOWED_HOSTS: format("127.0.0.1,{HOST}"),
        BASICAUTH_DISABLE: "1",
        LISTEN: 128,
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
    health: { url: "http://127.0.0.1:8000/?test={uuid}", connect_to: "127.0.0.1:8000", timeout: 30s },
}
