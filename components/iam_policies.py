"""IAM policy JSON every component writes the same way (one compact document format, trust statements).

Plain functions returning policy JSON or statements; components call them inside
`Output.apply` to fill in ARNs and account IDs. No resources are created here.
"""

from __future__ import annotations

import json
from typing import Any

Statement = dict[str, Any]


def document(*statements: Statement) -> str:
    """A policy document: compact, keys in the order written (deterministic)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))
