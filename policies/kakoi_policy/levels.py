"""Which policies a stack's policy config keeps advisory, and why.

`policies/config.<stack>.json` starts with `"all": "mandatory"` (Pulumi's policy
config: the top-level level overrides every policy's own, a per-policy
`enforcementLevel` overrides that; https://www.pulumi.com/docs/using-pulumi/crossguard/configuration/).
So every policy is mandatory on a stack unless the config names it advisory, and
every such exception is listed here with its reason: the controls report
(docs/controls.md) prints them, and tests/policies/test_levels.py fails when the
config and this list disagree, when a reason names no real config key, or when a
policy the default prod program satisfies is not mandatory for prod.

`make policy-config` (tools/policy_config.py) writes these exceptions into the generated
`policies/config.<stack>.json`, and stackconfig reads `ADVISORY` straight from this file
(stackconfig/policy.py, with runpy: keep it plain data that imports nothing) to refuse at
load a config value a policy mandatory on the stack would fail.

Only two kinds of reason are legitimate: the stack's own config differs on
purpose (staging is torn down and rebuilt), or a documented config switch
(a `kakoi:` key in Pulumi.yaml) weakens the control on purpose. The reason names
the key.
"""

from __future__ import annotations

ADVISORY: dict[str, dict[str, str]] = {
    "prod": {},
    "staging": {
        "kakoi-elb-deletion-protection": (
            "staging sets kakoi:albDeletionProtection false (Pulumi.staging.yaml) so the stack can be torn down and rebuilt "
            "from the same program; production keeps the default true and the check makes it mandatory there"
        ),
        "kakoi-rds-deletion-protection": (
            "staging sets kakoi:dbDeletionProtection false (Pulumi.staging.yaml): its database holds no customer data and is "
            "rebuilt with the stack; stackconfig refuses false for production"
        ),
    },
}


def advisory_for(stack: str) -> dict[str, str]:
    """The policies `stack`'s config keeps advisory, with the reason (empty for an unknown stack)."""
    return dict(ADVISORY.get(stack, {}))


#: the same reasons in Japanese, for the auditor's sheet (docs/controls.ja.md); the keys match ADVISORY
ADVISORY_JA: dict[str, dict[str, str]] = {
    "prod": {},
    "staging": {
        "kakoi-elb-deletion-protection": (
            "ステージングは同じプログラムから作り直せるよう kakoi:albDeletionProtection を false にしています。本番は既定の true で、必須です"
        ),
        "kakoi-rds-deletion-protection": (
            "ステージングのデータベースには顧客データがなく、スタックと共に作り直すため kakoi:dbDeletionProtection を false にしています。"
            "本番で false にすることは設定の検証が拒否します"
        ),
    },
}
