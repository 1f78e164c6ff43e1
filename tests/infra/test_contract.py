"""The platform's side of the contract with the app (app/kakoi/contract.py).

Both ways, on the rendered task definitions of both stacks: every container of the app image sets
exactly the variables its contract process lists (nothing the app does not read: app/tests/
test_contract.py proves that each listed one is read), and everything the process requires is
among them. The relay's container is held to the relay's contract, and relay/entrypoint.sh to the
same list. Every shared value (database name and port, roles, secret keys, health paths, user, CA
bundle, settings module, commands) is compared with the contract, not with a literal.
"""

from __future__ import annotations

import re

from components import app_service, availability, database, edge, registry, relay, scan_events, security_groups
from components.contract import contract
from tests.infra import deployview as dv
from tools.stackfiles import ROOT
from tools.stackview import StackView

#: task definition family suffix -> the contract processes its containers run
APP_FAMILIES = {
    "app": {"web", "migrate"},
    "db-provision": {"db-provision"},
    "scan-consumer": {"scan-consumer"},
    "send-queued-email": {"send-queued-email"},
    "purge-objects": {"purge-objects"},
}
RELAY_FAMILY = "relay"
ENTRYPOINT_SH = ROOT / "relay" / "entrypoint.sh"


def app_containers(view: StackView) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for family, names in APP_FAMILIES.items():
        containers = dv.containers(view, family)
        assert set(containers) == names, family
        found.update(containers)
    return found


def test_sql3_every_process_of_the_app_image_is_declared_and_no_other(each_stack: StackView) -> None:
    """The app image runs as exactly the contract's processes (one container each), all with the image from the registry."""
    containers = app_containers(each_stack)
    assert set(containers) == set(contract.APP_PROCESSES)
    images = {c["image"] for c in containers.values()}
    assert len(images) == 1, images
    # a task definition that runs the app image is one of the contract's processes (a new one must be added there)
    [image] = images
    for td in each_stack.of_type(dv.TASK_DEF):
        names = {c["name"] for c in td.json_input("containerDefinitions") if c["image"] == image}
        assert names <= set(contract.APP_PROCESSES), (
            f"{td.inputs['family']} runs the app image as {sorted(names)}: add it to app/kakoi/contract.py"
        )


def test_sql3_environment_and_secrets_are_exactly_the_contract_both_ways(each_stack: StackView) -> None:
    """SQL-3: each container sets exactly its process's plain variables and secrets; nothing required is missing."""
    for name, c in app_containers(each_stack).items():
        process = contract.APP_PROCESSES[name]
        environment, secrets = set(dv.env(c)), set(dv.secrets(c))
        assert environment == process.environment, {
            name: {"extra": sorted(environment - process.environment), "missing": sorted(process.environment - environment)}
        }
        assert secrets == process.secrets, {
            name: {"extra": sorted(secrets - process.secrets), "missing": sorted(process.secrets - secrets)}
        }
        assert not environment & secrets, name
        assert process.required <= environment | secrets, sorted(process.required - environment - secrets)
        assert environment | secrets <= contract.APP_ENV, "the platform sets only what the app reads"
        assert contract.Env.KAKOI_COMMAND not in environment, "the entrypoint publishes the command, not the platform"
        assert c["command"] == list(process.command), name


def test_enc1_shared_values_are_the_contract(each_stack: StackView) -> None:
    """ENC-1 / SQL-3: database host, port and name of the kakoi database, verify-full TLS against the image's CA bundle."""
    db = each_stack.one("aws:rds/instance:Instance", "db")
    assert db.inputs["dbName"] == contract.DB_NAME and db.inputs["port"] == contract.DB_PORT
    assert db.inputs["username"] == contract.DB_MASTER_USER
    for c in app_containers(each_stack).values():
        environment = dv.env(c)
        assert environment[contract.Env.DATABASE_HOST] == db.outputs["address"]
        assert environment[contract.Env.DATABASE_PORT] == str(contract.DB_PORT)
        assert environment[contract.Env.DATABASE_NAME] == contract.DB_NAME
        assert environment[contract.Env.DATABASE_SSLMODE] == contract.DB_SSLMODE
        assert environment[contract.Env.DATABASE_SSLROOTCERT] == contract.RDS_CA_BUNDLE
        assert environment[contract.Env.DJANGO_SETTINGS_MODULE] == contract.PRODUCTION_SETTINGS
        assert c["user"] == contract.APP_USER
        assert [m["containerPath"] for m in c["mountPoints"]] == [contract.WRITABLE_PATH]
        for name, value_from in dv.secrets(c).items():
            if name.endswith("_USER"):
                assert value_from.endswith(f":{contract.SECRET_USERNAME_KEY}::"), name
            if name.endswith("_PASSWORD"):
                assert value_from.endswith(f":{contract.SECRET_PASSWORD_KEY}::"), name


def test_sql3_role_secrets_are_the_contract_roles(each_stack: StackView) -> None:
    """SQL-3: the stack declares one secret per contract role (`<project>/<stack>/db/<suffix>`), the ones the tasks read."""
    secrets = {r.name: r for r in each_stack.of_type("aws:secretsmanager/secret:Secret")}
    for suffix in contract.DB_ROLE_SECRETS:
        assert secrets[f"db-{suffix}-secret"].inputs["name"].endswith(f"/db/{suffix}")
    containers = app_containers(each_stack)
    owner, web = secrets["db-owner-secret"].outputs["arn"], secrets["db-web-secret"].outputs["arn"]
    assert dv.secret_arn(dv.secrets(containers["migrate"])[contract.Env.DATABASE_USER]) == owner
    assert dv.secret_arn(dv.secrets(containers["web"])[contract.Env.DATABASE_USER]) == web
    assert dv.secret_arn(dv.secrets(containers["scan-consumer"])[contract.Env.DATABASE_USER]) == web
    assert dv.env(containers["db-provision"])[contract.Env.DB_OWNER_SECRET_ARN] == owner


def test_avl1_health_paths_are_the_contract(each_stack: StackView) -> None:
    """AVL-1: the target group and the canary probe readiness, the container check liveness, at the contract's paths."""
    tg = each_stack.one("aws:lb/targetGroup:TargetGroup", "edge")
    # the target group checks liveness (a database failover must not make ECS replace every task), the canary readiness
    assert tg.inputs["healthCheck"]["path"] == contract.HEALTH_LIVE_PATH
    [canary] = each_stack.of_type("aws:synthetics/canary:Canary")
    assert canary.inputs["runConfig"]["environmentVariables"]["HEALTH_URL"].endswith(contract.HEALTH_READY_PATH)
    web = dv.containers(each_stack, "app")["web"]
    port = int(dv.env(web)[contract.Env.PORT])
    assert f"http://127.0.0.1:{port}{contract.HEALTH_LIVE_PATH}'" in web["healthCheck"]["command"][3]


def test_net1_database_port_is_the_contract(each_stack: StackView) -> None:
    """NET-1: the database group admits the contract's port (and only it) from the app."""
    rules = [r for r in each_stack.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r.name.startswith("sg-db-")]
    assert rules and all(r.inputs["fromPort"] == r.inputs["toPort"] == contract.DB_PORT for r in rules)


def test_relay_environment_is_the_relay_contract(each_stack: StackView) -> None:
    """The relay container sets exactly the relay's contract; relay/entrypoint.sh reads all of it and requires what it says."""
    [c] = dv.containers(each_stack, RELAY_FAMILY).values()
    assert c["name"] == contract.RELAY.name
    assert set(dv.env(c)) == contract.RELAY.environment
    assert set(dv.secrets(c)) == contract.RELAY.secrets
    assert c["user"] == contract.APP_USER


def test_relay_entrypoint_reads_and_requires_the_relay_contract() -> None:
    """relay/entrypoint.sh: every variable the platform sets is read; the ones it refuses to start without are `required`."""
    script = ENTRYPOINT_SH.read_text(encoding="utf-8")
    read = set(re.findall(r"\$\{?(TURN_[A-Z_]+)", script))
    assert contract.RELAY.names <= read, sorted(contract.RELAY.names - read)
    required = set(re.findall(r'\[ -n "\$\{(TURN_[A-Z_]+):-\}" \] \|\| fail', script))
    assert required == contract.RELAY.required


def test_components_take_their_constants_from_the_contract() -> None:
    """The platform's module constants are the contract's values (one home for each fact)."""
    assert (database.DB_NAME, database.PORT, database.MASTER_USERNAME) == (contract.DB_NAME, contract.DB_PORT, contract.DB_MASTER_USER)
    assert tuple(contract.DB_ROLE_SECRETS) == database.APP_ROLES
    assert security_groups.DB_PORT == contract.DB_PORT
    assert edge.HEALTH_CHECK_PATH == contract.HEALTH_LIVE_PATH and availability.HEALTH_PATH == contract.HEALTH_READY_PATH
    assert app_service.HEALTH_PATH_LIVE == contract.HEALTH_LIVE_PATH
    assert app_service.APP_USER == contract.APP_USER and app_service.TMP_PATH == contract.WRITABLE_PATH
    assert app_service.RDS_CA_BUNDLE == contract.RDS_CA_BUNDLE and app_service.DATABASE_NAME == contract.DB_NAME
    assert (contract.WEB.name, contract.MIGRATE.name, contract.DB_PROVISION.name) == (
        app_service.WEB,
        app_service.MIGRATE,
        app_service.DB_PROVISION,
    )
    assert contract.SCAN_CONSUMER.name == scan_events.CONTAINER and contract.RELAY.name == relay.CONTAINER


def test_the_contract_is_in_the_app_image_build_context() -> None:
    """The contract ships in the image (.dockerignore keeps it) and so counts in the image's content hash."""
    patterns = registry._dockerignore(ROOT / registry.CONTEXT)
    assert not registry._ignored("kakoi/contract.py", patterns)
    assert (ROOT / registry.CONTEXT / "kakoi" / "contract.py").is_file()
