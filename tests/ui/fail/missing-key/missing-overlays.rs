// `overlays` is required.
// Without overlays nothing else can be checked (every variable would be unused), so this
// environment declares no services, vars or health check.
mrs_dsl::deployment! {
    env: local,
    tier: development,
    persistent: { home: "/tmp/testmrs" },
}
