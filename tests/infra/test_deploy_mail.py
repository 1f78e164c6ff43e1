"""The app's mail: SES domain identity with Easy DKIM, TLS-only delivery (ENC-1), reputation metrics (MON-1)."""

from __future__ import annotations

import pytest

from tests.conftest import view as stack_view
from tests.infra import deployview as dv
from tools.render import RenderError, render
from tools.stackview import StackView

IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity"
CONFIG_SET = "aws:sesv2/configurationSet:ConfigurationSet"
RECORD = "aws:route53/record:Record"


def test_enc1_mail_leaves_ses_only_over_tls(each_stack: StackView) -> None:
    """ENC-1: the configuration set requires TLS to the receiving server and is the identity's default."""
    config_set = each_stack.one(CONFIG_SET, "mail-config")
    assert config_set.inputs["deliveryOptions"]["tlsPolicy"] == "REQUIRE"
    identity = each_stack.one(IDENTITY, "mail-domain")
    assert identity.inputs["configurationSetName"] == config_set.inputs["configurationSetName"]


def test_mon1_reputation_metrics_and_suppression(each_stack: StackView) -> None:
    """MON-1: bounce and complaint rates are published; bouncing and complaining addresses are suppressed."""
    config_set = each_stack.one(CONFIG_SET, "mail-config").inputs
    assert config_set["reputationOptions"]["reputationMetricsEnabled"] is True
    assert sorted(config_set["suppressionOptions"]["suppressedReasons"]) == ["BOUNCE", "COMPLAINT"]
    assert config_set["sendingOptions"]["sendingEnabled"] is True


@pytest.mark.parametrize(("stack", "domain"), [("prod", "kakoi.example.com"), ("staging", "staging.kakoi.example.com")])
def test_enc1_domain_identity_with_easy_dkim_2048(stack: str, domain: str) -> None:
    """ENC-1: the configured domain is the identity, signed with Easy DKIM RSA-2048."""
    identity = stack_view(stack).one(IDENTITY, "mail-domain")
    assert identity.inputs["emailIdentity"] == domain
    assert identity.inputs["dkimSigningAttributes"] == {"nextSigningKeyLength": "RSA_2048_BIT"}


def test_enc1_three_dkim_cnames_in_the_hosted_zone_one_per_token(each_stack: StackView) -> None:
    """ENC-1: `<token>._domainkey.<domain>` CNAME `<token>.dkim.amazonses.com`, declared by index for the 3 tokens."""
    identity = each_stack.one(IDENTITY, "mail-domain")
    domain = identity.inputs["emailIdentity"]
    tokens = identity.outputs["dkimSigningAttributes"]["tokens"]
    assert len(tokens) == 3
    records = {r.name: r.inputs for r in each_stack.of_type(RECORD) if r.name.startswith("mail-dkim-")}
    assert sorted(records) == ["mail-dkim-0", "mail-dkim-1", "mail-dkim-2"]
    stack = each_stack.resources[0].urn.split("::")[0].rsplit(":", 1)[1]
    zone = {"prod": "Z0123456789KAKOIPROD", "staging": "Z0123456789KAKOISTG"}[stack]
    for i, token in enumerate(tokens):
        rec = records[f"mail-dkim-{i}"]
        assert rec["type"] == "CNAME"
        assert rec["name"] == f"{token}._domainkey.{domain}"
        assert rec["records"] == [f"{token}.dkim.amazonses.com"]
        assert rec["zoneId"] == zone
    exported = each_stack.stack_outputs["mailDkimRecords"]
    assert [e["name"] for e in exported] == [records[f"mail-dkim-{i}"]["name"] for i in range(3)]


def test_enc1_without_a_hosted_zone_the_records_are_only_exported() -> None:
    """ENC-1: with no Route 53 zone (an existing certificate instead), nothing is written to DNS; the records are outputs."""
    cert = "arn:aws:acm:ap-northeast-1:123456789012:certificate/11111111-2222-4333-8444-555555555555"
    view = dv.rendered(
        "staging",
        (
            ("kakoi:hostedZoneId", ""),
            ("kakoi:certificateArn", cert),
            ("kakoi:relayCertificateArn", cert.replace(":certificate/", ":certificate/9")),
        ),
    )
    assert not [r for r in view.of_type(RECORD) if r.name.startswith("mail-dkim-")]
    assert len(view.stack_outputs["mailDkimRecords"]) == 3
    assert all(e["value"].endswith(".dkim.amazonses.com") for e in view.stack_outputs["mailDkimRecords"])


def test_enc1_app_mail_settings_come_from_config(each_stack: StackView) -> None:
    """ENC-1: the web container sends from kakoi:mailFrom through the TLS-only configuration set."""
    web = dv.env(dv.containers(each_stack, "app")["web"])
    identity = each_stack.one(IDENTITY, "mail-domain").inputs["emailIdentity"]
    assert web["KAKOI_EMAIL_FROM"].endswith(f"@{identity}")
    assert web["KAKOI_SES_CONFIGURATION_SET"] == each_stack.one(CONFIG_SET, "mail-config").inputs["configurationSetName"]


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"kakoi:mailFrom": "no-reply@example.org"}, "not an address in mailDomain"),
        ({"kakoi:mailFrom": "no-reply@evilkakoi.example.com"}, "not an address in mailDomain"),
        ({"kakoi:mailFrom": "not-an-address"}, "not an email address"),
        ({"kakoi:mailDomain": "Kakoi.Example.com"}, "lower-case DNS name"),
    ],
)
def test_enc1_mail_from_must_be_an_address_in_the_mail_domain(override: dict, reason: str) -> None:
    """ENC-1: SES sends only from the verified domain, so config refuses any other from-address."""
    with pytest.raises(RenderError) as info:
        render("staging", overrides=override)
    assert reason in str(info.value)
    assert info.value.declared == 0


def test_enc1_subdomain_from_address_is_accepted() -> None:
    """ENC-1: a from-address in a subdomain of the verified domain is fine (SES covers subdomains)."""
    view = dv.rendered("staging", (("kakoi:mailFrom", "alerts@mail.staging.kakoi.example.com"),))
    send = dv.statement(dv.role_statements(view, "task"), "SendMailFromAppAddress")
    assert send["Condition"] == {"StringEquals": {"ses:FromAddress": "alerts@mail.staging.kakoi.example.com"}}
