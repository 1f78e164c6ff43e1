"""kakoi: reads and validates the stack config, then builds the tiers in order.

Nothing else happens here: every resource is declared inside a component (components/),
each tier (tiers/) wires the components of one layer and hands typed handles to the next,
and every setting is validated (stackconfig/) before the first resource. docs/architecture.md
"""

import pulumi

import stackconfig
from components.context import StackContext
from stackconfig.pulumi_source import PulumiConfigValues
from tiers import app, data, detection, edge, foundation

try:
    cfg = stackconfig.load(PulumiConfigValues(), project=pulumi.get_project(), stack=pulumi.get_stack())
except stackconfig.ConfigError as exc:
    raise pulumi.RunError(str(exc)) from exc

ctx = StackContext.create(cfg.core)
base = foundation.build(ctx, cfg)  # LOG-1, BAK-1, ENC-1, NET-1, MON-1
front = edge.build(ctx, cfg, base)  # ENC-1, ENC-2, XSS-2, CJ-1, HDR-1
stored = data.build(ctx, cfg, base)  # BAK-1, BAK-2, BCP-1, REC-1, SQL-3
service = app.build(ctx, cfg, base, front, stored)  # AVL-1, REC-1, CMD-1, ENC-1 (live media), AV-1
detection.build(ctx, cfg, base, front, stored, service)  # AV-1, LOG-1, MON-1, MON-2, AVL-1
