// `overlays` is required.
// Without overlays nothing else can be checked, so this environment has no services or vars.
mrs_dsl::deployment! {
    env: local,
    tier: development,
    persistent: { home: "/tmp/testmrs" },
}
