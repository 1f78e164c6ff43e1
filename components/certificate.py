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

CONTROLS: dict[str, str] = {
    "ENC-1": "ACM certificate for the public name; the HTTPS listener serves it with a TLS-1.3-only policy",
}


@dataclass(frozen=True)
class CertificateArgs:
    domain_name: str
    #: Route 53 zone for DNS validation ("" when certificate_arn is given)
    hosted_zone_id: str
    #: an existing certificate to use as is ("" to request one)
    certificate_arn: str


class Certificate(pulumi.ComponentResource):
    certificate_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:certificate:Certificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
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
