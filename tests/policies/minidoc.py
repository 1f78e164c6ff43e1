"""Small hand-made `pulumi stack export` documents for the checker's unit tests (no render needed)."""

from __future__ import annotations

from typing import Any

STACK_URN = "urn:pulumi:prod::kakoi::pulumi:pulumi:Stack::kakoi-prod"
PROVIDER_URN = "urn:pulumi:prod::kakoi::pulumi:providers:aws::aws"
BUCKET = "aws:s3/bucket:Bucket"


def urn(typ: str, name: str) -> str:
    return f"urn:pulumi:prod::kakoi::{typ}::{name}"


def resource(
    typ: str, name: str, inputs: dict[str, Any] | None = None, outputs: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A custom resource under the stack with the default provider, as the engine records it."""
    inputs = dict(inputs or {})
    return {
        "urn": urn(typ, name),
        "custom": True,
        "id": f"{name}-id",
        "type": typ,
        "inputs": inputs,
        "outputs": {"id": f"{name}-id", **inputs, **(outputs or {})},
        "parent": STACK_URN,
        "provider": f"{PROVIDER_URN}::provider-id",
        **extra,
    }


def doc(*resources: dict[str, Any]) -> dict[str, Any]:
    """A version-3 deployment: the Stack, the aws provider, then `resources`."""
    base = [
        {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
        {
            "urn": PROVIDER_URN,
            "custom": True,
            "id": "provider-id",
            "type": "pulumi:providers:aws",
            "inputs": {"region": "ap-northeast-1"},
            "outputs": {"region": "ap-northeast-1"},
            "parent": STACK_URN,
        },
    ]
    return {"version": 3, "deployment": {"manifest": {}, "resources": [*base, *resources]}}
