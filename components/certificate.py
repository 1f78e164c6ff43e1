"""The TLS certificate of the public name (ENC-1, ENC-2).

Either an existing ACM certificate (config `certificateArn`), or one requested
here for `domainName` and validated through a DNS record in the Route 53 zone
from config. Only one name is requested, so the validation record is declared
from the first (and only) `domain_validation_options` entry, never inside
`apply`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackconfig.edge import EdgeConfig

CONTROLS: dict[str, str] = {
    "ENC-1": "ACM certificate for the public name; the HTTPS listener serves it with a TLS-1.3-only policy",
}


@dataclass(frozen=True)
class CertificateArgs:
    """Inputs of `Certificate`. The fields are explicit (not a config section) because two names use
    it: the app's (`CertificateArgs.of(EdgeConfig)`) and the TURN relay's (components/relay.py)."""

    #: the one DNS name the certificate is for. Required. (ENC-1)
    domain_name: str
    #: the Route 53 zone that holds the DNS validation record. Required when `certificate_arn` is ""
    #: ("" otherwise). (ENC-1)
    hosted_zone_id: str
    #: an existing ACM certificate for `domain_name`, used as is. "" to request one (DNS-validated,
    #: ECDSA P-256, certificate transparency logging on). (ENC-1)
    certificate_arn: str

    @classmethod
    def of(cls, config: EdgeConfig) -> CertificateArgs:
        """The certificate of the app's public name (stackconfig/edge.py)."""
        return cls(domain_name=config.domain_name, hosted_zone_id=config.hosted_zone_id, certificate_arn=config.certificate_arn)


class Certificate(pulumi.ComponentResource):
    certificate_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:certificate:Certificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if not args.certificate_arn and not args.hosted_zone_id:
            raise ValueError(f"CertificateArgs for {args.domain_name}: hosted_zone_id is required to request a certificate")
        if args.certificate_arn:
            self.certificate_arn = pulumi.Output.from_input(args.certificate_arn)
        else:
            cert = aws.acm.Certificate(
                name,
                domain_name=args.domain_name,
                validation_method="DNS",
                key_algorithm="EC_prime256v1",
                options={"certificate_transparency_logging_preference": "ENABLED"},
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
            )
            option = cert.domain_validation_options[0]
            record = aws.route53.Record(
                f"{name}-validation",
                zone_id=args.hosted_zone_id,
                name=option.resource_record_name,
                type=option.resource_record_type,
                records=[option.resource_record_value],
                ttl=300,
                allow_overwrite=True,
                opts=child,
            )
            validation = aws.acm.CertificateValidation(
                name,
                certificate_arn=cert.arn,
                validation_record_fqdns=[record.fqdn],
                opts=child,
            )
            self.certificate_arn = validation.certificate_arn
        self.register_outputs({"certificateArn": self.certificate_arn})
