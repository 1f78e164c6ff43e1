"""Security groups (NET-1): who may talk to whom, one rule resource per rule.

The chain, and nothing else:

* ``alb``: 443 and 80 (80 only redirects, ENC-2) from the configured ingress CIDRs
  (IPv4 and IPv6); egress only to the ``app`` group on the app port.
* ``app``: the app port from the ``alb`` group only; egress 5432 to ``db``, 443 to
  ``endpoints``, 443 to the S3 gateway endpoint's prefix list, and 443 to
  0.0.0.0/0 only when ``allow_internet_egress`` is set (the caller sets it when NAT
  gateways are configured; without NAT there is no path anyway).
* ``db``: 5432 from the ``app`` group and from each of ``db_admin_cidrs`` (stack
  config already restricts them to private ranges); no egress rule at all (a
  security group is stateful: replies need no egress rule).
* ``endpoints``: 443 from the ``app`` group (and the ``relay`` group) only; no egress rule.
* ``nlb`` (only with a relay, components/relay.py): 443 from the configured ingress CIDRs
  (IPv4 and IPv6), the relay's TLS listener; egress only to the ``relay`` group on the
  relay's listener port (traffic and health checks: an NLB's health checks obey its
  outbound rules, not the targets' inbound ones).
  https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html
* ``relay``: its listener port from the ``nlb`` group only; UDP on the relay port range
  from and to the ``relay`` group itself (relay-to-relay media between tasks, docs/relay.md),
  nothing else from anywhere; egress 443 to ``endpoints`` and the S3 prefix list (image
  layers, secrets, logs) and to the VPC for GuardDuty's runtime agent, like the app.

Security groups do not filter traffic to the Amazon DNS resolver, the ECS task
metadata and credentials endpoints or the instance metadata service, so the app
needs no rule for DNS or for its task role credentials.
https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html

Why rule resources and no inline rules: pulumi-aws recommends
``aws.vpc.SecurityGroupIngressRule`` / ``SecurityGroupEgressRule`` and warns not to
mix them with the inline ``ingress``/``egress`` arguments of ``aws.ec2.SecurityGroup``
(rules would fight each other and flap), so the groups below set neither argument.
https://www.pulumi.com/registry/packages/aws/api-docs/vpc/securitygroupegressrule/

Why no allow-all egress remains: AWS adds an "allow all" egress rule to every new
VPC security group, but the provider removes it when it creates the group ("NOTE on
Egress rules ... When creating a new Security Group inside a VPC, this provider will
remove this default rule"), whether or not inline rules are given.
https://www.pulumi.com/registry/packages/aws/api-docs/ec2/securitygroup/
So each group starts empty and holds exactly the rule resources declared here.
Inline ``egress=[]`` would also work but would make the group own its egress rules
(removing the rule resources' rules on the next update), hence not used.
``revoke_rules_on_delete`` lets a group be deleted although another group's rule
still references it (app <-> alb <-> db reference each other).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.contract import contract

CONTROLS: dict[str, str] = {
    "NET-1": (
        "security groups chain alb -> app -> db: only the load balancer group takes traffic from "
        "CIDRs (the configured ingress CIDRs, on 443 and 80); the app takes the app port only from the "
        "load balancer group; the database takes 5432 only from the app group and private admin CIDRs; "
        "no group has egress to 0.0.0.0/0 unless NAT is configured (then only the app, on 443); the TURN relay's "
        "load balancer group takes only 443 from the configured ingress CIDRs, the relay tasks only their TLS port from "
        "that group and the UDP relay ports from each other"
    ),
}

#: PostgreSQL
DB_PORT = contract.DB_PORT

#: characters EC2 accepts in group and rule descriptions (the strictest of the API's sets:
#: rules referencing a group or a prefix list do not accept "&"), at most 255 of them
#: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_UserIdGroupPair.html
DESCRIPTION_PATTERN = r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=;{}!$*]{1,255}"


def check_description(text: str) -> str:
    """`text` if EC2 accepts it as a security group or rule description, else ValueError."""
    if not re.fullmatch(DESCRIPTION_PATTERN, text):
        raise ValueError(f"security group description {text!r} has characters EC2 refuses or is too long")
    return text


HTTPS_PORT = 443
HTTP_PORT = 80


@dataclass(frozen=True)
class SecurityGroupsArgs:
    name_prefix: str
    vpc_id: pulumi.Input[str]
    #: CIDRs allowed to reach the load balancer on 443/80 (NET-1)
    ingress_ipv4: Sequence[str]
    ingress_ipv6: Sequence[str]
    app_port: int
    #: the AWS-managed prefix list of S3 (the S3 gateway endpoint routes it)
    s3_prefix_list_id: pulumi.Input[str]
    #: private CIDRs allowed to reach the database on 5432 (stackconfig checks they are private)
    db_admin_cidrs: Sequence[str] = field(default_factory=tuple)
    #: the app may open HTTPS connections to the internet (only meaningful with NAT gateways)
    allow_internet_egress: bool = False
    #: the VPC's IPv4 range: when set, the app may reach HTTPS inside the VPC, which the GuardDuty
    #: runtime-monitoring agent needs for the `guardduty-data` endpoint GuardDuty creates itself
    #: (its ID is unknown to this program)
    #: https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-ecs-fargate-agent-mgmt.html
    guardduty_agent_vpc_cidr: str = ""
    #: the TURN relay (components/relay.py): its container's TLS listener port (0 = no relay groups)
    relay_listen_port: int = 0
    #: the UDP range of relayed transport addresses, open only between relay tasks
    relay_port_range: tuple[int, int] = (0, 0)


class SecurityGroups(pulumi.ComponentResource):
    alb: aws.ec2.SecurityGroup
    app: aws.ec2.SecurityGroup
    db: aws.ec2.SecurityGroup
    endpoints: aws.ec2.SecurityGroup
    #: only with a relay (relay_listen_port)
    nlb: aws.ec2.SecurityGroup | None
    relay: aws.ec2.SecurityGroup | None

    def __init__(self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:security_groups:SecurityGroups", name, None, opts)
        if not args.ingress_ipv4 and not args.ingress_ipv6:
            raise ValueError("the load balancer needs at least one ingress CIDR")
        self._name = name
        self._child = pulumi.ResourceOptions(parent=self)
        self._prefix = prefix = args.name_prefix

        def group(key: str, description: str) -> aws.ec2.SecurityGroup:
            # no inline `ingress`/`egress`: every rule is a resource below (see the module docstring)
            return aws.ec2.SecurityGroup(
                f"{name}-{key}",
                name=f"{prefix}-{key}",
                description=check_description(description),
                vpc_id=args.vpc_id,
                revoke_rules_on_delete=True,
                tags={"Name": f"{prefix}-{key}"},
                opts=self._child,
            )

        self.alb = group("alb", "Load balancer: HTTPS (and HTTP redirect) from the allowed CIDRs")
        self.app = group("app", "App tasks: the app port from the load balancer only")
        self.db = group("db", "Database: PostgreSQL from the app and the private admin networks only")
        self.endpoints = group("endpoints", "Interface VPC endpoints: HTTPS from the app only")

        # ---- load balancer
        for port, what in ((HTTPS_PORT, "HTTPS"), (HTTP_PORT, "HTTP, redirected to HTTPS")):
            for i, cidr in enumerate(args.ingress_ipv4):
                self._ingress(f"alb-{port}-v4-{i}", self.alb, port, f"{what} from allowed network {cidr}", cidr_ipv4=cidr)
            for i, cidr in enumerate(args.ingress_ipv6):
                self._ingress(f"alb-{port}-v6-{i}", self.alb, port, f"{what} from allowed network {cidr}", cidr_ipv6=cidr)
        self._egress("alb-to-app", self.alb, args.app_port, "Forward to the app tasks", referenced_security_group_id=self.app.id)

        # ---- app
        self._ingress("app-from-alb", self.app, args.app_port, "Requests from the load balancer", referenced_security_group_id=self.alb.id)
        self._egress("app-to-db", self.app, DB_PORT, "PostgreSQL", referenced_security_group_id=self.db.id)
        self._egress(
            "app-to-endpoints",
            self.app,
            HTTPS_PORT,
            "AWS APIs through interface VPC endpoints",
            referenced_security_group_id=self.endpoints.id,
        )
        self._egress("app-to-s3", self.app, HTTPS_PORT, "S3 through the gateway VPC endpoint", prefix_list_id=args.s3_prefix_list_id)
        if args.guardduty_agent_vpc_cidr:
            self._egress(
                "app-to-guardduty-endpoint",
                self.app,
                HTTPS_PORT,
                "GuardDuty runtime agent to the guardduty-data VPC endpoint in this VPC (AV-1)",
                cidr_ipv4=args.guardduty_agent_vpc_cidr,
            )
        if args.allow_internet_egress:
            # explicit config switch: natGateways > 0 in stack config
            self._egress(
                "app-to-internet", self.app, HTTPS_PORT, "HTTPS to the internet through NAT (natGateways set)", cidr_ipv4="0.0.0.0/0"
            )

        # ---- database (no egress rules: replies to allowed connections need none)
        self._ingress("db-from-app", self.db, DB_PORT, "PostgreSQL from the app tasks", referenced_security_group_id=self.app.id)
        for i, cidr in enumerate(args.db_admin_cidrs):
            v6 = ipaddress.ip_network(cidr).version == 6
            self._ingress(
                f"db-from-admin-{i}",
                self.db,
                DB_PORT,
                f"PostgreSQL from private admin network {cidr}",
                cidr_ipv4=None if v6 else cidr,
                cidr_ipv6=cidr if v6 else None,
            )

        # ---- interface endpoints
        self._ingress(
            "endpoints-from-app", self.endpoints, HTTPS_PORT, "HTTPS from the app tasks", referenced_security_group_id=self.app.id
        )

        # ---- the TURN relay's load balancer and tasks (NET-1)
        self.nlb = self.relay = None
        if args.relay_listen_port:
            self._relay(args)

        self.alb_sg_id = self.alb.id
        self.app_sg_id = self.app.id
        self.db_sg_id = self.db.id
        self.endpoints_sg_id = self.endpoints.id
        self.register_outputs(
            {
                "albSgId": self.alb_sg_id,
                "appSgId": self.app_sg_id,
                "dbSgId": self.db_sg_id,
                "endpointsSgId": self.endpoints_sg_id,
                **({"nlbSgId": self.nlb_sg_id, "relaySgId": self.relay_sg_id} if self.relay else {}),
            }
        )

    @property
    def nlb_sg_id(self) -> pulumi.Output[str]:
        """The relay load balancer's group (only with `relay_listen_port`)."""
        if self.nlb is None:
            raise ValueError("no relay security groups: SecurityGroupsArgs.relay_listen_port is 0")
        return self.nlb.id

    @property
    def relay_sg_id(self) -> pulumi.Output[str]:
        """The relay tasks' group (only with `relay_listen_port`)."""
        if self.relay is None:
            raise ValueError("no relay security groups: SecurityGroupsArgs.relay_listen_port is 0")
        return self.relay.id

    def _relay(self, args: SecurityGroupsArgs) -> None:
        name, prefix, child = self._name, self._prefix, self._child
        low, high = args.relay_port_range
        if not 0 < low <= high <= 65535:
            raise ValueError(f"relay_port_range {args.relay_port_range} is not a port range")

        def group(key: str, description: str) -> aws.ec2.SecurityGroup:
            return aws.ec2.SecurityGroup(
                f"{name}-{key}",
                name=f"{prefix}-{key}",
                description=check_description(description),
                vpc_id=args.vpc_id,
                revoke_rules_on_delete=True,
                tags={"Name": f"{prefix}-{key}"},
                opts=child,
            )

        self.nlb = nlb = group("nlb", "Relay load balancer: TLS on 443 from the allowed CIDRs")
        self.relay = relay = group("relay", "Relay tasks: TLS from the relay load balancer, UDP relay ports between relay tasks")
        port = args.relay_listen_port
        for i, cidr in enumerate(args.ingress_ipv4):
            self._ingress(f"nlb-443-v4-{i}", nlb, HTTPS_PORT, f"TURN over TLS from allowed network {cidr}", cidr_ipv4=cidr)
        for i, cidr in enumerate(args.ingress_ipv6):
            self._ingress(f"nlb-443-v6-{i}", nlb, HTTPS_PORT, f"TURN over TLS from allowed network {cidr}", cidr_ipv6=cidr)
        self._egress("nlb-to-relay", nlb, port, "Forward and health-check the relay tasks", referenced_security_group_id=relay.id)

        self._ingress("relay-from-nlb", relay, port, "TURN over TLS from the relay load balancer", referenced_security_group_id=nlb.id)
        self._ingress(
            "relay-udp-from-relay",
            relay,
            low,
            "Relayed media from other relay tasks (UDP relay port range)",
            referenced_security_group_id=relay.id,
            protocol="udp",
            to_port=high,
        )
        self._egress(
            "relay-udp-to-relay",
            relay,
            low,
            "Relayed media to other relay tasks (UDP relay port range)",
            referenced_security_group_id=relay.id,
            protocol="udp",
            to_port=high,
        )
        self._egress(
            "relay-to-endpoints",
            relay,
            HTTPS_PORT,
            "AWS APIs through interface VPC endpoints",
            referenced_security_group_id=self.endpoints.id,
        )
        self._egress("relay-to-s3", relay, HTTPS_PORT, "S3 through the gateway VPC endpoint", prefix_list_id=args.s3_prefix_list_id)
        if args.guardduty_agent_vpc_cidr:
            self._egress(
                "relay-to-guardduty-endpoint",
                relay,
                HTTPS_PORT,
                "GuardDuty runtime agent to the guardduty-data VPC endpoint in this VPC (AV-1)",
                cidr_ipv4=args.guardduty_agent_vpc_cidr,
            )
        self._ingress(
            "endpoints-from-relay", self.endpoints, HTTPS_PORT, "HTTPS from the relay tasks", referenced_security_group_id=relay.id
        )

    def _ingress(
        self,
        key: str,
        sg: aws.ec2.SecurityGroup,
        port: int,
        description: str,
        *,
        cidr_ipv4: str | None = None,
        cidr_ipv6: str | None = None,
        referenced_security_group_id: pulumi.Input[str] | None = None,
        protocol: str = "tcp",
        to_port: int | None = None,
    ) -> aws.vpc.SecurityGroupIngressRule:
        """One port (or `port`-`to_port`) of one protocol (TCP unless said) from exactly one source."""
        if sum(x is not None for x in (cidr_ipv4, cidr_ipv6, referenced_security_group_id)) != 1:
            raise ValueError(f"ingress rule {key} needs exactly one source")
        return aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-{key}",
            security_group_id=sg.id,
            ip_protocol=protocol,
            from_port=port,
            to_port=port if to_port is None else to_port,
            cidr_ipv4=cidr_ipv4,
            cidr_ipv6=cidr_ipv6,
            referenced_security_group_id=referenced_security_group_id,
            description=check_description(description),
            tags={"Name": f"{self._prefix}-{key}"},
            opts=self._child,
        )

    def _egress(
        self,
        key: str,
        sg: aws.ec2.SecurityGroup,
        port: int,
        description: str,
        *,
        cidr_ipv4: str | None = None,
        referenced_security_group_id: pulumi.Input[str] | None = None,
        prefix_list_id: pulumi.Input[str] | None = None,
        protocol: str = "tcp",
        to_port: int | None = None,
    ) -> aws.vpc.SecurityGroupEgressRule:
        """One port (or `port`-`to_port`) of one protocol (TCP unless said) to exactly one destination."""
        if sum(x is not None for x in (cidr_ipv4, referenced_security_group_id, prefix_list_id)) != 1:
            raise ValueError(f"egress rule {key} needs exactly one destination")
        return aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-{key}",
            security_group_id=sg.id,
            ip_protocol=protocol,
            from_port=port,
            to_port=port if to_port is None else to_port,
            cidr_ipv4=cidr_ipv4,
            referenced_security_group_id=referenced_security_group_id,
            prefix_list_id=prefix_list_id,
            description=check_description(description),
            tags={"Name": f"{self._prefix}-{key}"},
            opts=self._child,
        )
