"""Security groups (NET-1): who may talk to whom, one rule resource per rule.

The chain, and nothing else:

* ``alb``: 443 and 80 (80 only redirects, ENC-2) from the configured ingress CIDRs
  (IPv4 and IPv6); egress only to the ``app`` group on the app port.
* ``app``: the app port from the ``alb`` group only; egress 5432 to ``db``, 443 to
  ``endpoints``, 443 to the S3 gateway endpoint's prefix list, 443 to the VPC range (the
  ``guardduty-data`` endpoint of GuardDuty's runtime agent, AV-1), and 443 to 0.0.0.0/0
  only when NAT gateways are configured (``kakoi:natGateways`` > 0, an explicit switch;
  without NAT there is no path anyway).
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

Rule names: a rule is named after what it allows, never after its place in a config list
(``sg-alb-443-v4-203.0.113.0-24``: group, port, address family, peer CIDR; see ``cidr_key``),
so removing ``kakoi:ingressCidrs[0]`` leaves every other rule's URN alone. A rule is
identified by its URN: a name built from the list index would rename every later rule and
make ``pulumi up`` replace it (delete + create: the rule is briefly missing, and the create
can fail as a duplicate of the not-yet-deleted rule). The rules first deployed under the
index-based names (``sg-alb-443-v4-0``, ``sg-db-from-admin-0``, ``sg-nlb-443-v4-0``) carry that
name as an alias (``pulumi.Alias``), so the rename itself replaces nothing; their ``Name`` tag
follows the new name (a one-off in-place tag update), so nothing about a rule depends on its place
in a list any more. The aliases follow the order
of the lists at the time of the rename: deploy the rename before editing those lists.
https://www.pulumi.com/docs/iac/concepts/options/aliases/
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from components.contract import contract
from components.network import Network
from stackconfig import relay as relay_config
from stackconfig.network import NetworkConfig
from stackconfig.relay import RelayConfig

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


def cidr_key(cidr: str) -> str:
    """The part of a rule's name that names its peer CIDR: the canonical form, `/` -> `-` and, for
    IPv6, `:` -> `.` (`203.0.113.0/24` -> `203.0.113.0-24`, `2001:db8::/32` -> `2001.db8..-32`,
    `::/0` -> `..-0`).

    One-to-one: IPv4 text has no `:`, compressed IPv6 text no `.`, and `/` occurs once; at most 43
    characters, so no hash is needed. ValueError for what is not a CIDR block."""
    net = ipaddress.ip_network(cidr, strict=True)
    return net.compressed.replace(":", ".").replace("/", "-")


@dataclass(frozen=True)
class SecurityGroupsArgs:
    """Inputs of `SecurityGroups`."""

    #: who and where the stack is: the name prefix of group names and `Name` tags, the region of the
    #: S3 prefix list. Required.
    context: StackContext
    #: the network's own settings (stackconfig/network.py): `ingress_cidrs` (IPv4 and IPv6 CIDRs that
    #: reach the load balancer on 443 and 80, and the relay's load balancer on 443), `app_port` (the
    #: only port the load balancer opens to the app), `db_admin_cidrs` (private CIDRs that reach the
    #: database on 5432; stackconfig refuses public ones), `nat_gateways` (> 0 is the explicit switch
    #: that lets the app open HTTPS to the internet) and `vpc_cidr` (the app's and the relay's HTTPS to
    #: the `guardduty-data` endpoint GuardDuty creates in the VPC, AV-1). Required. (NET-1)
    config: NetworkConfig
    #: the VPC the groups belong to (`Network.vpc_id`). Required. (NET-1)
    network: Network
    #: the TURN relay (components/relay.py): with it, the `nlb` and `relay` groups (443 from
    #: `ingress_cidrs` to the relay's load balancer, `stackconfig.relay.LISTEN_PORT` from it to the tasks,
    #: the UDP relay range `min_port`-`max_port` between tasks only). @default None: no relay groups.
    #: (NET-1, ENC-1)
    relay: RelayConfig | None = None
    #: the AWS-managed prefix list of S3, which the S3 gateway endpoint routes (the app's and the relay's
    #: S3 egress). @default looked up by name (`com.amazonaws.<region>.s3`). (NET-1)
    s3_prefix_list_id: pulumi.Input[str] | None = None


class SecurityGroups(pulumi.ComponentResource):
    """The groups (`alb_sg_id`, `app_sg_id`, `db_sg_id`, `endpoints_sg_id`, and with a relay `nlb_sg_id`,
    `relay_sg_id`) and `app_port`, the one port the load balancer may reach the app on."""

    app_port: int
    alb: aws.ec2.SecurityGroup
    app: aws.ec2.SecurityGroup
    db: aws.ec2.SecurityGroup
    endpoints: aws.ec2.SecurityGroup
    #: only with a relay (`SecurityGroupsArgs.relay`)
    nlb: aws.ec2.SecurityGroup | None
    relay: aws.ec2.SecurityGroup | None

    def __init__(self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:security_groups:SecurityGroups", name, None, opts)
        cfg, ctx = args.config, args.context
        if not cfg.ingress_cidrs:
            raise ValueError("NetworkConfig.ingress_cidrs: the load balancer needs at least one ingress CIDR")
        self._name = name
        self._child = pulumi.ResourceOptions(parent=self)
        self._prefix = ctx.name_prefix
        self.app_port = app_port = cfg.app_port
        self._vpc_id = args.network.vpc_id
        s3_prefix_list_id = (
            args.s3_prefix_list_id
            if args.s3_prefix_list_id is not None
            else aws.ec2.get_prefix_list_output(name=f"com.amazonaws.{ctx.region}.s3", opts=ctx.invoke_opts()).id
        )
        # the app's and the relay's HTTPS to the guardduty-data endpoint in the VPC (AV-1); its ID is
        # unknown to this program (GuardDuty creates it), hence the VPC range
        # https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring-ecs-fargate-agent-mgmt.html
        guardduty_cidr = cfg.vpc_cidr

        self.alb = self._group("alb", "Load balancer: HTTPS (and HTTP redirect) from the allowed CIDRs")
        self.app = self._group("app", "App tasks: the app port from the load balancer only")
        self.db = self._group("db", "Database: PostgreSQL from the app and the private admin networks only")
        self.endpoints = self._group("endpoints", "Interface VPC endpoints: HTTPS from the app only")

        # ---- load balancer
        for port, what in ((HTTPS_PORT, "HTTPS"), (HTTP_PORT, "HTTP, redirected to HTTPS")):
            self._from_cidrs(f"alb-{port}", self.alb, port, f"{what} from allowed network", cfg)
        self._egress("alb-to-app", self.alb, app_port, "Forward to the app tasks", referenced_security_group_id=self.app.id)

        # ---- app
        self._ingress("app-from-alb", self.app, app_port, "Requests from the load balancer", referenced_security_group_id=self.alb.id)
        self._egress("app-to-db", self.app, DB_PORT, "PostgreSQL", referenced_security_group_id=self.db.id)
        self._egress(
            "app-to-endpoints",
            self.app,
            HTTPS_PORT,
            "AWS APIs through interface VPC endpoints",
            referenced_security_group_id=self.endpoints.id,
        )
        self._egress("app-to-s3", self.app, HTTPS_PORT, "S3 through the gateway VPC endpoint", prefix_list_id=s3_prefix_list_id)
        self._egress(
            "app-to-guardduty-endpoint",
            self.app,
            HTTPS_PORT,
            "GuardDuty runtime agent to the guardduty-data VPC endpoint in this VPC (AV-1)",
            cidr_ipv4=guardduty_cidr,
        )
        if cfg.nat_gateways > 0:
            # explicit config switch: natGateways > 0 in stack config (without NAT there is no path anyway)
            self._egress(
                "app-to-internet", self.app, HTTPS_PORT, "HTTPS to the internet through NAT (natGateways set)", cidr_ipv4="0.0.0.0/0"
            )

        # ---- database (no egress rules: replies to allowed connections need none)
        self._ingress("db-from-app", self.db, DB_PORT, "PostgreSQL from the app tasks", referenced_security_group_id=self.app.id)
        for i, cidr in enumerate(cfg.db_admin_cidrs):
            v6 = ipaddress.ip_network(cidr).version == 6
            self._ingress(
                f"db-from-admin-{cidr_key(cidr)}",
                self.db,
                DB_PORT,
                f"PostgreSQL from private admin network {cidr}",
                cidr_ipv4=None if v6 else cidr,
                cidr_ipv6=cidr if v6 else None,
                deployed_as=f"db-from-admin-{i}",
            )

        # ---- interface endpoints
        self._ingress(
            "endpoints-from-app", self.endpoints, HTTPS_PORT, "HTTPS from the app tasks", referenced_security_group_id=self.app.id
        )

        # ---- the TURN relay's load balancer and tasks (NET-1)
        self.nlb = self.relay = None
        if args.relay is not None:
            self._relay(args.relay, cfg, s3_prefix_list_id, guardduty_cidr)

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
        """The relay load balancer's group (only with `SecurityGroupsArgs.relay`)."""
        if self.nlb is None:
            raise ValueError("no relay security groups: SecurityGroupsArgs.relay is None")
        return self.nlb.id

    @property
    def relay_sg_id(self) -> pulumi.Output[str]:
        """The relay tasks' group (only with `SecurityGroupsArgs.relay`)."""
        if self.relay is None:
            raise ValueError("no relay security groups: SecurityGroupsArgs.relay is None")
        return self.relay.id

    def _group(self, key: str, description: str) -> aws.ec2.SecurityGroup:
        """A group with no inline `ingress`/`egress`: every rule is a resource (see the module docstring)."""
        return aws.ec2.SecurityGroup(
            f"{self._name}-{key}",
            name=f"{self._prefix}-{key}",
            description=check_description(description),
            vpc_id=self._vpc_id,
            revoke_rules_on_delete=True,
            tags={"Name": f"{self._prefix}-{key}"},
            opts=self._child,
        )

    def _relay(self, relay_cfg: RelayConfig, cfg: NetworkConfig, s3_prefix_list_id: pulumi.Input[str], guardduty_cidr: str) -> None:
        low, high = relay_cfg.min_port, relay_cfg.max_port
        if not 0 < low <= high <= 65535:
            raise ValueError(f"RelayConfig min_port-max_port {low}-{high} is not a port range")

        self.nlb = nlb = self._group("nlb", "Relay load balancer: TLS on 443 from the allowed CIDRs")
        self.relay = relay = self._group("relay", "Relay tasks: TLS from the relay load balancer, UDP relay ports between relay tasks")
        port = relay_config.LISTEN_PORT
        self._from_cidrs(f"nlb-{HTTPS_PORT}", nlb, HTTPS_PORT, "TURN over TLS from allowed network", cfg)
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
        self._egress("relay-to-s3", relay, HTTPS_PORT, "S3 through the gateway VPC endpoint", prefix_list_id=s3_prefix_list_id)
        self._egress(
            "relay-to-guardduty-endpoint",
            relay,
            HTTPS_PORT,
            "GuardDuty runtime agent to the guardduty-data VPC endpoint in this VPC (AV-1)",
            cidr_ipv4=guardduty_cidr,
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
        deployed_as: str | None = None,
    ) -> aws.vpc.SecurityGroupIngressRule:
        """One port (or `port`-`to_port`) of one protocol (TCP unless said) from exactly one source.

        `deployed_as`: the index-based key the rule was first deployed under (its alias)."""
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
            opts=self._rule_opts(deployed_as),
        )

    def _rule_opts(self, deployed_as: str | None) -> pulumi.ResourceOptions:
        """Children of the component; a rule first deployed under an index-based name answers to it."""
        if deployed_as is None:
            return self._child
        return pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{self._name}-{deployed_as}")])

    def _from_cidrs(self, key: str, sg: aws.ec2.SecurityGroup, port: int, what: str, cfg: NetworkConfig) -> None:
        """`port` from each of `cfg.ingress_cidrs`, one rule each, named `<key>-v4|v6-<cidr_key>`.

        The index-based key the rule was deployed under (`<key>-v4-<i>`, the i-th IPv4 CIDR) is its alias."""
        for family, cidrs in (("v4", cfg.ingress_ipv4), ("v6", cfg.ingress_ipv6)):
            for i, cidr in enumerate(cidrs):
                self._ingress(
                    f"{key}-{family}-{cidr_key(cidr)}",
                    sg,
                    port,
                    f"{what} {cidr}",
                    cidr_ipv4=cidr if family == "v4" else None,
                    cidr_ipv6=cidr if family == "v6" else None,
                    deployed_as=f"{key}-{family}-{i}",
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
