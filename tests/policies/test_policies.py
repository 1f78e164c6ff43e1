"""Every policy passes on the rendered stacks and catches realistic mistakes.

Each sheet ID has its own pair of tests: the policies that enforce it pass on the
rendered prod stack (with policies/config.prod.json) and judge at least one
resource there, stay free of mandatory violations on staging, and report a
violation for every mutation listed in tests/policies/cases.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.cases import CASES
from tests.policies.support import POLICIES, Mutation, augmented, iter_cases, run, stack_config, violations

SHEET_IDS = [
    "NET-1",
    "ENC-1",
    "ENC-2",
    "XSS-2",
    "CJ-1",
    "AV-1",
    "BAK-1",
    "BAK-2",
    "BCP-1",
    "LOG-1",
    "MON-1",
    "MON-2",
    "MNT-1",
    "REC-1",
    "AVL-1",
    "BOF-2",
    "CMD-1",
]


def _policies_for(sheet_id: str | None) -> list[Any]:
    names = sorted(n for n, p in POLICIES.items() if (sheet_id in p.info.sheet_ids if sheet_id else not p.info.sheet_ids))
    return [pytest.param(n, id=n) for n in names]


def _cases_for(sheet_id: str | None) -> list[Any]:
    out = []
    for name, label, fn in iter_cases(CASES):
        ids = POLICIES[name].info.sheet_ids
        if (sheet_id in ids) if sheet_id else not ids:
            out.append(pytest.param(name, fn, id=f"{name}: {label}"))
    return out


def _passes(name: str) -> None:
    report = run(augmented("prod"), name, stack_config("prod"))
    assert report.subjects.get(name, 0) > 0, f"{name} judged no resource on prod"
    assert not report.for_policy(name), [f.message for f in report.for_policy(name)]
    staging = run(augmented("staging"), name, stack_config("staging"))
    assert not [f for f in staging.for_policy(name) if f.level == "mandatory"], violations(staging, name)


def _catches(name: str, mutate: Mutation) -> None:
    doc = augmented("prod")
    mutate(doc)
    report = run(doc, name, stack_config("prod"))
    found = violations(report, name)
    assert found, f"{name} did not catch the mutation"
    if report.levels[name].value == "mandatory":
        assert report.exit_code == 1


def test_audit1_every_policy_has_a_failing_case() -> None:
    """AUDIT-1: every policy of the pack has at least one mutation it must catch (tests/policies/cases.py)."""
    assert set(CASES) == set(POLICIES), {"without cases": sorted(set(POLICIES) - set(CASES)), "unknown": sorted(set(CASES) - set(POLICIES))}
    assert all(CASES.values())


@pytest.mark.parametrize("name", _policies_for("NET-1"))
def test_net1_policies_pass_on_rendered_stacks(name: str) -> None:
    """NET-1: security group, database, bucket and service exposure policies pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("NET-1"))
def test_net1_policies_catch_exposure(name: str, mutate: Mutation) -> None:
    """NET-1: opening a port to the internet or putting a resource in the public group is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("ENC-1"))
def test_enc1_policies_pass_on_rendered_stacks(name: str) -> None:
    """ENC-1: TLS 1.3 policies (listener, buckets, database) pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("ENC-1"))
def test_enc1_policies_catch_weaker_tls(name: str, mutate: Mutation) -> None:
    """ENC-1: a TLS 1.2 policy (even with a TLS13 prefix), an omitted policy or a weaker bucket/database TLS rule is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("ENC-2"))
def test_enc2_policies_pass_on_rendered_stacks(name: str) -> None:
    """ENC-2: the 301-redirect-only port 80 listener and HSTS pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("ENC-2"))
def test_enc2_policies_catch_plain_http(name: str, mutate: Mutation) -> None:
    """ENC-2: serving on port 80, a 302 or HTTP-keeping redirect, or missing HSTS is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("XSS-2"))
def test_xss2_policies_pass_on_rendered_stacks(name: str) -> None:
    """XSS-2: HTTPS forced by the load balancer on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("XSS-2"))
def test_xss2_policies_catch_plain_http(name: str, mutate: Mutation) -> None:
    """XSS-2: any way of serving plain HTTP at the load balancer is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("CJ-1"))
def test_cj1_policies_pass_on_rendered_stacks(name: str) -> None:
    """CJ-1: X-Frame-Options set at the edge on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("CJ-1"))
def test_cj1_policies_catch_missing_frame_options(name: str, mutate: Mutation) -> None:
    """CJ-1: a missing or permissive X-Frame-Options header is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("AV-1"))
def test_av1_policies_pass_on_rendered_stacks(name: str) -> None:
    """AV-1: GuardDuty detector, features and media malware scanning pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("AV-1"))
def test_av1_policies_catch_missing_detection(name: str, mutate: Mutation) -> None:
    """AV-1: no or disabled detector, missing features or an unscanned media bucket is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("BAK-1"))
def test_bak1_policies_pass_on_rendered_stacks(name: str) -> None:
    """BAK-1: encryption and region policies pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("BAK-1"))
def test_bak1_policies_catch_unencrypted_or_foreign_backups(name: str, mutate: Mutation) -> None:
    """BAK-1: unencrypted storage or resources outside Japan are caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("BAK-2"))
def test_bak2_policies_pass_on_rendered_stacks(name: str) -> None:
    """BAK-2: automated backups and the monthly backup plan pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("BAK-2"))
def test_bak2_policies_catch_short_or_missing_backups(name: str, mutate: Mutation) -> None:
    """BAK-2: short retention, an unselected database or a short monthly retention is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("BCP-1"))
def test_bcp1_policies_pass_on_rendered_stacks(name: str) -> None:
    """BCP-1: cross-region backup policies pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("BCP-1"))
def test_bcp1_policies_catch_missing_remote_copies(name: str, mutate: Mutation) -> None:
    """BCP-1: missing replication, replication outside the DR region or without a DR key is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("LOG-1"))
def test_log1_policies_pass_on_rendered_stacks(name: str) -> None:
    """LOG-1: access logs, the archive, CloudTrail and WAF logging pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("LOG-1"))
def test_log1_policies_catch_lost_logs(name: str, mutate: Mutation) -> None:
    """LOG-1: logs turned off, expiring or deletable archives and weak trails are caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("MON-1"))
def test_mon1_policies_pass_on_rendered_stacks(name: str) -> None:
    """MON-1: alarms cover the load balancer, database and service; containers log."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("MON-1"))
def test_mon1_policies_catch_blind_spots(name: str, mutate: Mutation) -> None:
    """MON-1: an unwatched service or a container without logs is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("MON-2"))
def test_mon2_policies_pass_on_rendered_stacks(name: str) -> None:
    """MON-2: every alarm notifies the encrypted, subscribed alert topic."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("MON-2"))
def test_mon2_policies_catch_silent_alarms(name: str, mutate: Mutation) -> None:
    """MON-2: alarms without actions, disabled actions, unencrypted or unsubscribed topics are caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("MNT-1"))
def test_mnt1_policies_pass_on_rendered_stacks(name: str) -> None:
    """MNT-1: the Friday 21:00 JST maintenance window passes on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("MNT-1"))
def test_mnt1_policies_catch_other_windows(name: str, mutate: Mutation) -> None:
    """MNT-1: another day or a random (omitted) window is caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("REC-1"))
def test_rec1_policies_pass_on_rendered_stacks(name: str) -> None:
    """REC-1: rollback and restore prerequisites pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("REC-1"))
def test_rec1_policies_catch_lost_rollback(name: str, mutate: Mutation) -> None:
    """REC-1: no circuit-breaker rollback, unprotected stateful resources or short backups are caught."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("AVL-1"))
def test_avl1_policies_pass_on_rendered_stacks(name: str) -> None:
    """AVL-1: multi-AZ and deletion protection hardening passes on prod."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("AVL-1"))
def test_avl1_policies_catch_single_points(name: str, mutate: Mutation) -> None:
    """AVL-1: a single-AZ database or load balancer is reported."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("BOF-2"))
def test_bof2_policies_pass_on_rendered_stacks(name: str) -> None:
    """BOF-2: image vulnerability scanning is on."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("BOF-2"))
def test_bof2_policies_catch_unscanned_images(name: str, mutate: Mutation) -> None:
    """BOF-2: a repository without scan on push is reported."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for("CMD-1"))
def test_cmd1_policies_pass_on_rendered_stacks(name: str) -> None:
    """CMD-1: no shell into the running app tasks (ECS Exec off) on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for("CMD-1"))
def test_cmd1_policies_catch_a_shell_into_tasks(name: str, mutate: Mutation) -> None:
    """CMD-1: turning ECS Exec on (kakoi:ecsExec) is a violation."""
    _catches(name, mutate)


@pytest.mark.parametrize("name", _policies_for(None))
def test_audit1_hardening_policies_pass_on_rendered_stacks(name: str) -> None:
    """AUDIT-1: Security Hub hardening policies outside the sheet pass on prod and staging."""
    _passes(name)


@pytest.mark.parametrize(("name", "mutate"), _cases_for(None))
def test_audit1_hardening_policies_catch_mutations(name: str, mutate: Mutation) -> None:
    """AUDIT-1: Security Hub hardening policies outside the sheet catch their mutations."""
    _catches(name, mutate)


def test_audit1_every_policy_is_tested_by_some_sheet_test() -> None:
    """AUDIT-1: the per-sheet tests above cover every policy (a new sheet ID needs its own pair of tests)."""
    covered = set()
    for sheet_id in [*SHEET_IDS, None]:
        covered |= {p.values[0] for p in _policies_for(sheet_id)}
    assert covered == set(POLICIES)
