"""Data and app components on their own (issue 13): a hand-made StackContext, a config section and
stand-ins for the handles they depend on are all a program needs (BAK-1, BAK-2, BCP-1, SQL-3, ENC-1)."""

from __future__ import annotations

from pathlib import Path

from tests.infra.detectionview import render_program

INSTANCE = "aws:rds/instance:Instance"
SECRET = "aws:secretsmanager/secret:Secret"
VAULT = "aws:backup/vault:Vault"
REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
CONFIG_SET = "aws:sesv2/configurationSet:ConfigurationSet"
IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity"
RECORD = "aws:route53/record:Record"

#: the program's own context and stand-in handles (nothing of the stack's foundation is declared)
PRELUDE = """
import dataclasses
from types import SimpleNamespace
from components.context import StackContext
ctx = StackContext(project="acme", stack="dev", region="ap-northeast-1", dr_region="ap-northeast-3",
                   account_id="123456789012", partition="aws", opts=opts)
keys = SimpleNamespace(
    database_key_arn="arn:aws:kms:ap-northeast-1:123456789012:key/db", logs_key_arn="arn:aws:kms:ap-northeast-1:123456789012:key/logs",
    backup_key_arn="arn:aws:kms:ap-northeast-1:123456789012:key/backup", dr_database_key_arn=None, dr_backup_key_arn=None,
)
"""


def test_bak1_sql3_database_and_backup_plan_on_their_own(tmp_path: Path) -> None:
    """BAK-1, BAK-2, SQL-3: Database and BackupPlan from a hand-made context and data section; names follow the
    context, the instance uses the handles it is given, and without DR keys nothing is copied to the DR region (BCP-1)."""
    view = render_program(
        tmp_path,
        PRELUDE
        + """
from components.backup import BackupPlan, BackupPlanArgs
from components.database import Database, DatabaseArgs
data = dataclasses.replace(cfg.data, multi_az=False, dr_copies=False, media_replication=False)
backup = BackupPlan("backup", BackupPlanArgs(ctx, data, keys=keys), opts=opts)
Database("db", DatabaseArgs(ctx, data, network=SimpleNamespace(isolated_subnet_ids=["subnet-a", "subnet-b"]),
                            security_groups=SimpleNamespace(db_sg_id="sg-db"), keys=keys, backup=backup), opts=opts)
""",
    )
    instance = view.one(INSTANCE, "db").inputs
    assert instance["identifier"] == "acme-dev-db"
    assert instance["vpcSecurityGroupIds"] == ["sg-db"]
    assert instance["multiAz"] is False
    assert instance["kmsKeyId"] == "arn:aws:kms:ap-northeast-1:123456789012:key/db"
    assert instance["tags"] == {"backup-plan": "acme-dev-data"}
    assert view.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == ["subnet-a", "subnet-b"]
    assert sorted(s.inputs["name"] for s in view.of_type(SECRET)) == ["acme/dev/db/owner", "acme/dev/db/web"]
    assert all("replicas" not in s.inputs for s in view.of_type(SECRET))
    assert view.of_type(REPLICATION) == []
    assert [v.inputs["name"] for v in view.of_type(VAULT)] == ["acme-dev-vault"]


def test_enc1_mail_on_its_own(tmp_path: Path) -> None:
    """ENC-1: Mail from a hand-made context and app section: TLS-only configuration set named by the context,
    no DKIM records without a hosted zone (the default)."""
    view = render_program(
        tmp_path,
        PRELUDE
        + """
from components.mail import Mail, MailArgs
Mail("mail", MailArgs(ctx, cfg.app), opts=opts)
""",
    )
    config_set = view.one(CONFIG_SET, "mail-config").inputs
    assert config_set["configurationSetName"] == "acme-dev-mail"
    assert config_set["deliveryOptions"]["tlsPolicy"] == "REQUIRE"
    assert view.one(IDENTITY, "mail-domain").inputs["emailIdentity"]
    assert view.of_type(RECORD) == []
