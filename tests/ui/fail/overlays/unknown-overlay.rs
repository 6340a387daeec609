mrs_dsl::deployment! {
    env: staging,
    tier: staging,
    persistent: { home: "/home/mrs-staging" },
    overlays: [base, persit],
    vars: {},
}
