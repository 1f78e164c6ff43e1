"""The stack's tiers, in the order `__main__.py` builds them.

Each tier module has one builder, `build(ctx, cfg, ...) -> <Tier>`, that declares the
components of one layer and returns a frozen dataclass of typed handles to them; a tier
takes the handles of the tiers it depends on, never loose ARNs. See docs/architecture.md.

    foundation  log archive, keys, network, security groups, VPC endpoints, alert topic
    edge        certificate, load balancer and listeners, WAF
    data        backup plan, database, media bucket
    app         image registry, mail, TURN relay, IAM, ECS service, scan events
    detection   GuardDuty, CloudTrail, alarms, the availability canary and dashboard
"""
