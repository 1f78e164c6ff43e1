"""The app's outgoing mail: an SES domain identity with Easy DKIM and a TLS-only configuration set.

The app sends account mail (second-factor tokens PWD-2, notices of important operations
CSRF-3, password changes PWD-1) through the SES API (VPC endpoint ``email``).

* **Domain identity** (``aws.sesv2.EmailIdentity``, ``kakoi:mailDomain``) with Easy DKIM
  (RSA 2048). SES always returns three DKIM tokens, so the three CNAME records
  ``<token>._domainkey.<domain> -> <token>.dkim.amazonses.com`` are declared by index, in the
  Route 53 zone ``kakoi:hostedZoneId`` when it is set (otherwise whoever runs the zone adds
  them from the ``dkimRecords`` output).
  https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy.html
* **Configuration set**, the identity's default (so it applies whatever the sending code
  passes): TLS required to the receiving server (``tls_policy = REQUIRE``: SES does not
  deliver a message it cannot send over TLS, ENC-1), reputation metrics on (bounce and
  complaint rates in CloudWatch, MON-1), the account suppression list for bounces and
  complaints.
  https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DeliveryOptions.html
* The from-address is ``kakoi:mailFrom`` (validated to be in the domain); the task role may
  send only from it (``ses:FromAddress``, components/app_iam.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

if TYPE_CHECKING:
    from components.context import StackContext
    from stackconfig.app import AppConfig

CONTROLS: dict[str, str] = {
    "ENC-1": "outgoing mail leaves SES only over TLS (configuration set tls_policy REQUIRE, the identity's default)",
    "MON-1": "SES reputation metrics (bounce and complaint rates) are published to CloudWatch",
}

#: Easy DKIM always hands out three tokens
#: https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DkimAttributes.html
DKIM_TOKENS = 3
#: the CNAME target domain of Easy DKIM in ap-northeast-1 and the other long-standing regions
DKIM_TARGET_DOMAIN = "dkim.amazonses.com"


@dataclass(frozen=True)
class MailArgs:
    """The app's sending domain and address, and where its DKIM records go."""

    #: the name prefix: the configuration set `<prefix>-mail` (TLS-only delivery, ENC-1); required
    context: StackContext
    #: the app's section: the SES domain identity (kakoi:mailDomain) and the from-address in it
    #: (kakoi:mailFrom) that account mail is sent from (PWD-2, CSRF-3); required
    config: AppConfig
    #: Route 53 zone holding the domain, where the three DKIM CNAME records go (kakoi:hostedZoneId;
    #: "" = publish them elsewhere, from the `mailDkimRecords` output; signed mail for PWD-2, CSRF-3); @default ""
    hosted_zone_id: str = ""


class Mail(pulumi.ComponentResource):
    identity: aws.sesv2.EmailIdentity
    configuration_set: aws.sesv2.ConfigurationSet

    def __init__(self, name: str, args: MailArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kakoi:mail:Mail", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        domain, from_address = args.config.mail_domain, args.config.mail_from

        self.configuration_set = aws.sesv2.ConfigurationSet(
            f"{name}-config",
            configuration_set_name=f"{args.context.name_prefix}-mail",
            delivery_options={"tls_policy": "REQUIRE"},
            reputation_options={"reputation_metrics_enabled": True},
            sending_options={"sending_enabled": True},
            suppression_options={"suppressed_reasons": ["BOUNCE", "COMPLAINT"]},
            opts=child,
        )
        self.identity = aws.sesv2.EmailIdentity(
            f"{name}-domain",
            email_identity=domain,
            configuration_set_name=self.configuration_set.configuration_set_name,
            dkim_signing_attributes={"next_signing_key_length": "RSA_2048_BIT"},
            opts=child,
        )
        tokens = self.identity.dkim_signing_attributes.apply(lambda a: list((a.tokens if a else None) or []))

        def token(i: int) -> pulumi.Output[str]:
            return tokens.apply(lambda t: t[i] if len(t) > i else "")

        #: (name, CNAME value) of each DKIM record
        self.dkim_records = [
            (
                token(i).apply(lambda t: f"{t}._domainkey.{domain}"),
                token(i).apply(lambda t: f"{t}.{DKIM_TARGET_DOMAIN}"),
            )
            for i in range(DKIM_TOKENS)
        ]
        self.records: list[aws.route53.Record] = []
        if args.hosted_zone_id:
            for i, (record_name, value) in enumerate(self.dkim_records):
                self.records.append(
                    aws.route53.Record(
                        f"{name}-dkim-{i}",
                        zone_id=args.hosted_zone_id,
                        name=record_name,
                        type="CNAME",
                        ttl=1800,
                        records=[value],
                        opts=child,
                    )
                )

        self.from_address = from_address
        self.identity_arn = self.identity.arn
        self.configuration_set_name = self.configuration_set.configuration_set_name
        self.configuration_set_arn = self.configuration_set.arn
        self.register_outputs(
            {
                "identityArn": self.identity_arn,
                "configurationSetName": self.configuration_set_name,
                "fromAddress": from_address,
            }
        )
