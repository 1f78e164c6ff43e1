"""The WAF web ACL in front of the load balancer (Security Hub ELB.16, WAF.*).

AWS managed rule groups (common, known bad inputs, SQL injection, Amazon IP
reputation) and a per-IP rate-based rule; every rule emits CloudWatch metrics
and sampled requests; the full log goes to the log archive with the session
cookie and authorization header redacted.

Rule group names: https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-list.html
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from components.edge import Edge
from components.log_archive import LogArchive
from stackconfig.edge import EdgeConfig

CONTROLS: dict[str, str] = {
    "NET-1": "WAF web ACL on the load balancer: managed rule groups and a per-IP rate limit",
    "AUDIT-1": "WAF request logs (credentials redacted) in the log archive",
}

#: (rule name, managed rule group name, priority)
MANAGED_RULE_GROUPS = (
    ("aws-ip-reputation", "AWSManagedRulesAmazonIpReputationList", 10),
    ("aws-common", "AWSManagedRulesCommonRuleSet", 20),
    ("aws-known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet", 30),
    ("aws-sqli", "AWSManagedRulesSQLiRuleSet", 40),
)
RATE_RULE_NAME = "rate-limit-per-ip"


@dataclass(frozen=True)
class WafArgs:
    """Inputs of `Waf`."""

    #: who the stack is: the name prefix of the web ACL's name (`<prefix>-web`). Required.
    context: StackContext
    #: the edge's settings (stackconfig/edge.py); the web ACL uses `waf_rate_limit` (requests per IP per
    #: 5-minute window before the rate-based rule blocks). Required. (NET-1)
    config: EdgeConfig
    #: the load balancer the web ACL is associated with. Required. (NET-1)
    edge: Edge
    #: where the request logs go: the archive bucket (its name starts with `aws-waf-logs-`, as WAF
    #: requires); the logging configuration waits for the archive's bucket policy. Required. (AUDIT-1, LOG-1)
    log_archive: LogArchive


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


class Waf(pulumi.ComponentResource):
    def __init__(self, name: str, args: WafArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:waf:Waf", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        rules: list[dict[str, object]] = [
            {
                "name": rule,
                "priority": priority,
                "override_action": {"none": {}},
                "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
                "visibility_config": _visibility(rule),
            }
            for rule, group, priority in MANAGED_RULE_GROUPS
        ]
        rules.append(
            {
                "name": RATE_RULE_NAME,
                "priority": 50,
                "action": {"block": {}},
                "statement": {
                    "rate_based_statement": {"limit": args.config.waf_rate_limit, "aggregate_key_type": "IP", "evaluation_window_sec": 300}
                },
                "visibility_config": _visibility(RATE_RULE_NAME),
            }
        )
        self.name = f"{args.context.name_prefix}-web"
        self.web_acl = aws.wafv2.WebAcl(
            name,
            name=self.name,
            description="kakoi load balancer: AWS managed rules and a per-IP rate limit",
            scope="REGIONAL",
            default_action={"allow": {}},
            rules=rules,  # type: ignore[arg-type]
            visibility_config=_visibility(self.name),
            opts=child,
        )
        aws.wafv2.WebAclAssociation(name, resource_arn=args.edge.load_balancer_arn, web_acl_arn=self.web_acl.arn, opts=child)
        # Waits for the bucket's policy: without one in place, WAF's log delivery writes its own
        # policy onto the bucket, racing (and possibly replacing) the one Pulumi declares.
        # https://docs.aws.amazon.com/waf/latest/developerguide/logging-s3.html
        aws.wafv2.WebAclLoggingConfiguration(
            name,
            resource_arn=self.web_acl.arn,
            log_destination_configs=[args.log_archive.archive_bucket.arn],
            redacted_fields=[{"single_header": {"name": "cookie"}}, {"single_header": {"name": "authorization"}}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.log_archive.archive_policy]),
        )
        self.web_acl_arn = self.web_acl.arn
        self.register_outputs({"webAclArn": self.web_acl.arn, "webAclName": self.name})
