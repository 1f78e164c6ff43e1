"""The PostgreSQL database and its role secrets (BAK-1, BAK-2, BCP-1, ENC-1, REC-1, MNT-1, SQL-3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import database
from components.contract import contract
from tools.stackview import Res, StackView

INSTANCE = "aws:rds/instance:Instance"
KEY = "aws:kms/key:Key"


def stack_name(view: StackView) -> str:
    return view.resources[0].urn.split("::")[0].split(":")[-1]


def db(view: StackView) -> Res:
    return view.one(INSTANCE, "db")


def key_arn(view: StackView, purpose: str) -> str:
    return view.one(KEY, f"keys-{purpose}").outputs["arn"]


def all_values(value: Any) -> list[tuple[str, Any]]:
    """Every (key, value) pair in a nested structure."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((k, v))
            out += all_values(v)
    elif isinstance(value, list):
        for v in value:
            out += all_values(v)
    return out


# ---- ENC-1: TLS 1.3 only --------------------------------------------------------------
def test_enc1_parameter_group_forces_tls13(each_stack: StackView) -> None:
    """ENC-1: rds.force_ssl=1 and ssl_min_protocol_version=TLSv1.3 in the instance's parameter group."""
    pg = each_stack.one("aws:rds/parameterGroup:ParameterGroup", "db-params")
    params = {p["name"]: p for p in pg.inputs["parameters"]}
    assert params["rds.force_ssl"]["value"] == "1"
    assert params["ssl_min_protocol_version"]["value"] == "TLSv1.3"
    assert pg.inputs["family"] == "postgres18"
    assert db(each_stack).inputs["parameterGroupName"] == pg.outputs["name"]
    assert db(each_stack).inputs["engineVersion"].split(".")[0] == "18"


def test_enc1_connection_logging_on(prod: StackView) -> None:
    """Connections and disconnections are logged (PostgreSQL 18's list form of log_connections)."""
    params = {p["name"]: p["value"] for p in prod.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]}
    assert params["log_connections"] == "receipt,authentication,authorization"
    assert params["log_disconnections"] == "1"
    assert database.parameters(17)["log_connections"] == "1"


def test_enc1_apply_method_matches_parameter_kind(prod: StackView) -> None:
    """ENC-1: dynamic parameters apply immediately; static ones would be pending-reboot (RDS rejects 'immediate')."""
    for p in prod.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]:
        assert p["applyMethod"] == ("pending-reboot" if p["name"] in database.STATIC_PARAMETERS else "immediate")
    assert database.apply_method("shared_preload_libraries") == "pending-reboot"


# ---- placement and access -------------------------------------------------------------
def test_database_is_private_multi_az_in_isolated_subnets(prod: StackView) -> None:
    """NET-1 / AVL-1: not public, Multi-AZ, in the isolated subnets, only the database security group."""
    inst = db(prod)
    assert inst.inputs["publiclyAccessible"] is False
    assert inst.inputs["multiAz"] is True
    sg = prod.one("aws:rds/subnetGroup:SubnetGroup", "db-subnets")
    assert sorted(sg.inputs["subnetIds"]) == sorted(prod.stack_outputs["isolatedSubnetIds"])
    assert inst.inputs["dbSubnetGroupName"] == sg.outputs["name"]
    db_sg = prod.one("aws:ec2/securityGroup:SecurityGroup", "sg-db")
    assert inst.inputs["vpcSecurityGroupIds"] == [db_sg.outputs["id"]]


def test_sql3_master_password_managed_by_rds_never_in_state(each_stack: StackView) -> None:
    """SQL-3: non-default master user; RDS generates the password into Secrets Manager (database key)."""
    inst = db(each_stack)
    assert inst.inputs["username"] == contract.DB_MASTER_USER
    assert inst.inputs["manageMasterUserPassword"] is True
    assert inst.inputs["masterUserSecretKmsKeyId"] == key_arn(each_stack, "database")
    assert inst.inputs["iamDatabaseAuthenticationEnabled"] is True
    for r in [*each_stack.descendants(each_stack.one("kakoi:database:Database", "db")), inst]:
        for k, _v in all_values(r.inputs):
            assert k.lower() not in ("password", "passwordwo", "secretstring"), (r.name, k)


def test_sql3_role_secrets_are_empty_and_encrypted(each_stack: StackView) -> None:
    """SQL-3: kakoi/<stack>/db/owner and /web exist, KMS-encrypted, with no secret value in Pulumi."""
    stack = stack_name(each_stack)
    secrets = {s.inputs["name"]: s for s in each_stack.of_type("aws:secretsmanager/secret:Secret")}
    for role in ("owner", "web"):
        s = secrets[f"kakoi/{stack}/db/{role}"]
        assert s.inputs["kmsKeyId"] == key_arn(each_stack, "database")
        assert s.protect and s.raw.get("retainOnDelete")
        assert s.inputs["replicas"] == [{"kmsKeyId": key_arn(each_stack, "dr-database"), "region": "ap-northeast-3"}]
    assert not each_stack.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    outputs = each_stack.stack_outputs
    assert outputs["databaseWebSecretArn"] == secrets[f"kakoi/{stack}/db/web"].outputs["arn"]
    assert outputs["databaseOwnerSecretArn"] == secrets[f"kakoi/{stack}/db/owner"].outputs["arn"]
    assert outputs["databaseMasterSecretArn"].startswith("arn:aws:secretsmanager:ap-northeast-1:")


# ---- BAK-1, BAK-2, REC-1, BCP-1 -------------------------------------------------------
def test_bak1_storage_and_insights_encrypted_with_the_database_key(each_stack: StackView) -> None:
    """BAK-1: storage (and so automated backups and snapshots) and Performance Insights use the database key."""
    inst = db(each_stack)
    arn = key_arn(each_stack, "database")
    assert inst.inputs["storageEncrypted"] is True
    assert inst.inputs["kmsKeyId"] == arn
    assert inst.inputs["performanceInsightsEnabled"] is True
    assert inst.inputs["performanceInsightsKmsKeyId"] == arn
    assert ":ap-northeast-1:" in arn
    assert inst.inputs["storageType"] == "gp3"
    assert inst.inputs["maxAllocatedStorage"] > inst.inputs["allocatedStorage"]


def test_database_insights_is_set_explicitly(each_stack: StackView) -> None:
    """Performance Insights continues as CloudWatch Database Insights: the mode is explicit."""
    inst = db(each_stack)
    assert inst.inputs["databaseInsightsMode"] == "standard"
    assert inst.inputs["performanceInsightsRetentionPeriod"] == 7


def test_bak2_rec1_point_in_time_recovery(prod: StackView, staging: StackView) -> None:
    """BAK-2, REC-1: automated backups (PITR) 35 days in prod; kept after deletion; tags copied to snapshots."""
    for view, days in ((prod, 35), (staging, 7)):
        inst = db(view)
        assert inst.inputs["backupRetentionPeriod"] == days
        assert inst.inputs["deleteAutomatedBackups"] is False
        assert inst.inputs["copyTagsToSnapshot"] is True
        assert inst.inputs["autoMinorVersionUpgrade"] is True


def test_rec1_prod_is_protected_and_takes_a_final_snapshot(prod: StackView, staging: StackView) -> None:
    """REC-1: deletion protection, a final snapshot and pulumi protect in prod; staging may skip the first two."""
    inst = db(prod)
    assert inst.inputs["deletionProtection"] is True
    assert inst.inputs["skipFinalSnapshot"] is False
    assert inst.inputs["finalSnapshotIdentifier"] == "kakoi-prod-db-final"
    assert inst.protect and inst.raw.get("retainOnDelete")
    st = db(staging)
    assert st.inputs["deletionProtection"] is False and st.inputs["skipFinalSnapshot"] is True
    assert st.protect and st.raw.get("retainOnDelete")


def test_bcp1_automated_backups_replicated_to_dr_region(each_stack: StackView) -> None:
    """BCP-1: automated backups replicated to ap-northeast-3, encrypted with the DR-region database key."""
    rep = each_stack.one("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    inst = db(each_stack)
    assert rep.region == "ap-northeast-3"
    assert rep.inputs["kmsKeyId"] == key_arn(each_stack, "dr-database")
    assert ":ap-northeast-3:" in rep.inputs["kmsKeyId"]
    assert rep.inputs["sourceDbInstanceArn"] == inst.outputs["arn"]
    assert rep.inputs["retentionPeriod"] == inst.inputs["backupRetentionPeriod"]
    assert rep.protect and rep.raw.get("retainOnDelete")


def test_bak2_database_is_selected_by_the_backup_plan(each_stack: StackView) -> None:
    """BAK-2: the instance carries the tag the AWS Backup selection matches."""
    sel = each_stack.one("aws:backup/selection:Selection")
    (tag,) = sel.inputs["selectionTags"]
    assert db(each_stack).inputs["tags"] == {tag["key"]: tag["value"]}


# ---- MNT-1 -----------------------------------------------------------------------------
def test_mnt1_windows(each_stack: StackView) -> None:
    """MNT-1: maintenance Friday 21:00 JST (fri:12:00 UTC) and the daily backup window before it."""
    inst = db(each_stack)
    assert inst.inputs["maintenanceWindow"] == "fri:12:00-fri:12:30"
    assert inst.inputs["backupWindow"] == "11:00-11:30"
    assert inst.inputs["applyImmediately"] is False


# ---- logs and monitoring ---------------------------------------------------------------
def test_logs_exported_to_encrypted_log_groups_declared_first(each_stack: StackView) -> None:
    """RDS.9: postgresql and upgrade logs exported into log groups with the logs key and a retention."""
    inst = db(each_stack)
    assert sorted(inst.inputs["enabledCloudwatchLogsExports"]) == ["postgresql", "upgrade"]
    for log in ("postgresql", "upgrade"):
        group = each_stack.one("aws:cloudwatch/logGroup:LogGroup", f"db-log-{log}")
        assert group.inputs["name"] == f"/aws/rds/instance/{inst.inputs['identifier']}/{log}"
        assert group.inputs["kmsKeyId"] == key_arn(each_stack, "logs")
        assert group.inputs["retentionInDays"] in (365, 90)
        assert group.urn in inst.dependencies


def test_enhanced_monitoring_role_is_scoped(prod: StackView) -> None:
    """RDS.6: Enhanced Monitoring with a role only RDS monitoring can assume for this database."""
    inst = db(prod)
    role = prod.one("aws:iam/role:Role", "db-monitoring")
    assert inst.inputs["monitoringInterval"] in (1, 5, 10, 15, 30, 60)
    assert inst.inputs["monitoringRoleArn"] == role.outputs["arn"]
    (st,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert st["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert st["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert st["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:rds:ap-northeast-1:123456789012:db:kakoi-prod-db"
    att = prod.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "db-monitoring")
    assert att.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


def test_enhanced_monitoring_policy_is_attached_before_the_instance(each_stack: StackView) -> None:
    """RDS.6 (MON-1): RDS validates the monitoring role's permissions on CreateDBInstance ("IAM role ARN
    value is invalid or does not include the required permissions for: ENHANCED_MONITORING"), so the
    instance waits for the managed policy's attachment, not just for the role."""
    att = each_stack.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "db-monitoring")
    assert att.urn in db(each_stack).dependencies


@pytest.mark.parametrize("output", ["databaseEndpoint", "databaseMasterSecretArn", "databaseWebSecretArn"])
def test_database_outputs_exported(prod: StackView, output: str) -> None:
    """The app and deploy tiers read the endpoint and the secret ARNs from the stack outputs."""
    assert prod.stack_outputs[output]


def test_sql3_roles_contract_document_matches_the_stack(prod: StackView) -> None:
    """SQL-3: docs/database-roles.md names the secrets, roles and variables the stack and app use."""
    from tools.stackfiles import ROOT

    text = (ROOT / "docs" / "database-roles.md").read_text(encoding="utf-8")
    for word in (
        "`<project>/<stack>/db/owner`",
        "`<project>/<stack>/db/web`",
        "kakoi/prod/db/web",
        database.MASTER_USERNAME,
        contract.DB_OWNER_ROLE,
        contract.DB_WEB_ROLE,
        "NOBYPASSRLS",
        "ensure_db_roles",
        "PutSecretValue",
        "databaseWebSecretArn",
        "databaseMasterSecretArn",
        database.CA_CERT_IDENTIFIER,
    ):
        assert word in text, word
    for var in (
        "DATABASE_HOST",
        "DATABASE_PORT",
        "DATABASE_NAME",
        "DATABASE_USER",
        "DATABASE_PASSWORD",
        "DATABASE_MASTER_USER",
        "DATABASE_MASTER_PASSWORD",
        "DB_OWNER_SECRET_ARN",
        "DB_WEB_SECRET_ARN",
        "DATABASE_SSLMODE",
        "DATABASE_SSLROOTCERT",
    ):
        assert f"`{var}`" in text, var
    assert db(prod).inputs["dbName"] == database.DB_NAME == contract.DB_NAME
