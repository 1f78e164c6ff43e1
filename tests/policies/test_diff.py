"""`make diff`: the change set of a pull request, offline (tools/diff.py).

The changes are made to copies of the prod render the way the engine would see them
(a URN that changes, an alias, a property that forces a new resource); one test renders
a git ref in a temporary tree.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import rendered_doc
from tests.policies.support import Doc, one, remove, set_prop
from tools import diff
from tools.check import SECRET_SIG, SIG
from tools.render import dumps

DB = "aws:rds/instance:Instance"
ROOT = Path(__file__).resolve().parents[2]


def _src(doc: Doc, label: str) -> diff.Source:
    return diff.Source(label, label, doc)


def _diff(before: Doc, after: Doc) -> diff.Diff:
    return diff.compute(_src(before, "base"), _src(after, "head"), "prod")


def _prod() -> Doc:
    return copy.deepcopy(rendered_doc("prod"))


def _rename(doc: Doc, typ: str, name: str, new_name: str, *, alias: bool) -> str:
    """Give a resource (and the references to it) a new logical name, as a rename in the program would."""
    res = one(doc, typ, name)
    old_urn = res["urn"]
    new_urn = old_urn.rsplit("::", 1)[0] + "::" + new_name
    text = json.dumps(doc).replace(json.dumps(old_urn)[1:-1], json.dumps(new_urn)[1:-1])
    doc.clear()
    doc.update(json.loads(text))
    if alias:
        one(doc, typ, new_name).setdefault("aliases", []).append(old_urn)
    return old_urn


def test_rec1_unchanged_render_has_no_changes() -> None:
    """REC-1: the same render on both sides is no change at all, exit 0."""
    d = _diff(_prod(), _prod())
    assert d.changes == [] and d.exit_code == 0
    assert d.counts()["unchanged"] == sum(
        1 for r in rendered_doc("prod")["deployment"]["resources"] if r["custom"] and not r["type"].startswith("pulumi:providers:")
    )
    assert "No changes." in diff.format_text(d)


def test_rec1_renaming_the_database_deletes_and_recreates_it_and_fails() -> None:
    """REC-1, BAK-2: a new logical name without an alias is delete + create of the database: exit 1, naming it."""
    after = _prod()
    old_urn = _rename(after, DB, "db", "db-primary", alias=False)
    d = _diff(_prod(), after)
    kinds = {(c.kind, c.res.name) for c in d.changes if c.res.type == DB}
    assert kinds == {("delete", "db"), ("create", "db-primary")}
    assert d.exit_code == 1
    assert [(c.kind, c.res.urn, c.stateful) for c in d.dangers] == [("delete", old_urn, "database")]
    text = diff.format_text(d)
    assert "DANGER: 1 protected or stateful resource(s)" in text and "delete database db" in text
    assert "kakoi:database:Database db  (+1, -1)" in text, text


def test_rec1_an_alias_turns_the_rename_into_an_update() -> None:
    """REC-1: with `aliases` covering the old URN the rename keeps the database: no delete, exit 0."""
    after = _prod()
    old_urn = _rename(after, DB, "db", "db-primary", alias=True)
    d = _diff(_prod(), after)
    db = [c for c in d.changes if c.res.type == DB]
    assert [(c.kind, c.res.name, c.old_urn) for c in db] == [("update", "db-primary", old_urn)]
    assert d.exit_code == 0 and not any(c.kind == "delete" for c in d.changes)


def test_rec1_render_records_aliases_as_the_engine_computes_them(tmp_path: Path) -> None:
    """REC-1: the offline render writes `aliases` (explicit ones and those inherited from a renamed parent)."""
    from tools.render import render

    program = tmp_path / "program.py"
    program.write_text(
        "import pulumi, pulumi_aws as aws\n"
        "class C(pulumi.ComponentResource):\n"
        "    def __init__(self, name, opts=None):\n"
        "        super().__init__('kakoi:test:C', name, None, opts)\n"
        "        aws.kms.Key(f'{name}-key', opts=pulumi.ResourceOptions(parent=self))\n"
        "C('new', opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name='old')]))\n",
        encoding="utf-8",
    )
    doc = render("prod", program=program)
    key = one(doc, "aws:kms/key:Key", "new-key")
    comp = one(doc, "kakoi:test:C", "new")
    assert comp["aliases"] == [comp["urn"].replace("::new", "::old")]
    assert key["aliases"] == [key["urn"].replace("::new-key", "::old-key")]


def test_bak1_a_property_that_forces_a_new_resource_is_a_replace() -> None:
    """BAK-1: turning storage encryption off replaces the database (ForceNew upstream): exit 1."""
    after = _prod()
    set_prop(one(after, DB), "storageEncrypted", False)
    d = _diff(_prod(), after)
    (change,) = [c for c in d.changes if c.res.type == DB]
    assert change.kind == "replace" and change.stateful == "database"
    assert change.reason == "storageEncrypted forces replacement"
    assert d.exit_code == 1
    assert "storageEncrypted: true -> false  (forces replacement)" in diff.format_text(d)


def test_rec1_renaming_the_instance_identifier_is_an_in_place_update() -> None:
    """REC-1: `identifier` updates in place since provider v5 (RDS renames the instance): exit 0."""
    after = _prod()
    set_prop(one(after, DB), "identifier", "kakoi-prod-db2")
    d = _diff(_prod(), after)
    (change,) = [c for c in d.changes if c.res.type == DB]
    assert change.kind == "update" and d.exit_code == 0
    assert change.props == [diff.PropChange("identifier", "kakoi-prod-db", "kakoi-prod-db2", False)]


def test_log1_bucket_rename_and_audit_log_group_delete_fail_but_an_alarm_delete_does_not() -> None:
    """LOG-1: a new bucket name replaces the log archive and deleting the audit log group loses audit data; an alarm is not data."""
    after = _prod()
    set_prop(one(after, "aws:s3/bucket:Bucket", "logs-archive"), "bucket", "kakoi-prod-logs-new")
    remove(after, "aws:cloudwatch/logGroup:LogGroup", "trail")
    remove(after, "aws:cloudwatch/metricAlarm:MetricAlarm", "alarms-db-cpu")
    d = _diff(_prod(), after)
    dangers = {(c.kind, c.res.name, c.stateful) for c in d.dangers}
    assert dangers == {("replace", "logs-archive", "bucket"), ("delete", "trail", "log group")}
    alarm = [c for c in d.changes if c.res.name == "alarms-db-cpu"]
    assert [(c.kind, c.stateful) for c in alarm] == [("delete", None)]

    only_alarm = _prod()
    remove(only_alarm, "aws:cloudwatch/metricAlarm:MetricAlarm", "alarms-db-cpu")
    assert _diff(_prod(), only_alarm).exit_code == 0


def test_enc1_property_level_changes_look_inside_json_documents() -> None:
    """ENC-1: a bucket policy change is shown at the statement that changed, not as one opaque string."""
    after = _prod()
    pol = one(after, "aws:s3/bucketPolicy:BucketPolicy", "media")
    doc = json.loads(pol["inputs"]["policy"])
    for st in doc["Statement"]:
        if st.get("Sid") == "DenyTlsBelow13":
            st["Condition"]["NumericLessThan"]["s3:TlsVersion"] = "1.2"
    set_prop(pol, "policy", json.dumps(doc))
    d = _diff(_prod(), after)
    (change,) = d.changes
    assert change.kind == "update" and change.component == "kakoi:media_bucket:MediaBucket media"
    assert [p.path for p in change.props] == [next(p.path for p in change.props if p.path.endswith("s3:TlsVersion"))]
    assert change.props[0].old == "1.3" and change.props[0].new == "1.2"


def test_audit1_secrets_are_masked_in_every_format() -> None:
    """AUDIT-1: secret values (and password-like properties) never reach the report."""
    before, after = _prod(), _prod()
    db = one(after, DB)
    db["inputs"]["password"] = {SIG: SECRET_SIG, "plaintext": json.dumps("hunter2-new")}
    one(before, DB)["inputs"]["password"] = {SIG: SECRET_SIG, "plaintext": json.dumps("hunter2-old")}
    d = _diff(before, after)
    for fmt in diff.FORMATS.values():
        out = fmt(d)
        assert "hunter2" not in out
    assert "password: [secret] changed" in diff.format_text(d)
    prop = next(p for c in diff.to_json(d)["changes"] for p in c["properties"] if p["path"] == "password")
    assert prop["old"] == prop["new"] == "[secret]"


def test_audit1_json_and_markdown_reports() -> None:
    """AUDIT-1: --format json is machine-readable with counts; markdown is a table grouped by component."""
    after = _prod()
    _rename(after, DB, "db", "db-primary", alias=False)
    d = _diff(_prod(), after)
    data = json.loads(diff.format_json(d))
    assert data["exitCode"] == 1 and data["summary"]["delete"] == 1 and data["summary"]["create"] == 1
    assert data["dangers"][0]["name"] == "db"
    md = diff.format_markdown(d)
    assert md.startswith("### Change set (prod): ❌") and "| kakoi:database:Database db | - delete |" in md


def test_audit1_cli_exit_codes_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """AUDIT-1: exit 0 for a safe change, 1 for data loss, 2 for input that cannot be read or found."""
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(dumps(_prod()), encoding="utf-8")
    renamed = _prod()
    _rename(renamed, DB, "db", "db-primary", alias=False)
    head.write_text(dumps(renamed), encoding="utf-8")
    assert diff.main(["--from", str(base), "--to", str(base)]) == 0
    assert diff.main(["--from", str(base), "--to", str(head), "--format", "json"]) == 1
    capsys.readouterr()
    assert diff.main(["--from", str(tmp_path / "missing.json"), "--to", str(base)]) == 2
    assert "neither an existing file nor a git ref" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 3, "deployment": {"resources": [', encoding="utf-8")
    assert diff.main(["--from", str(bad), "--to", str(base)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    bad.write_text('{"version": 2}', encoding="utf-8")
    assert diff.main(["--from", str(bad), "--to", str(base)]) == 2
    assert "unsupported deployment version" in capsys.readouterr().err


def test_audit1_make_diff_on_two_exports(tmp_path: Path) -> None:
    """AUDIT-1: `make diff FROM=<export> TO=<export>` prints the change set and fails on the database delete."""
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(dumps(_prod()), encoding="utf-8")
    renamed = _prod()
    _rename(renamed, DB, "db", "db-primary", alias=False)
    head.write_text(dumps(renamed), encoding="utf-8")
    proc = subprocess.run(["make", "-s", "diff", f"FROM={base}", f"TO={head}"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "Error 1" in proc.stderr, proc.stderr  # make's own code; the tool exited 1
    assert "DANGER" in proc.stdout and "delete database db" in proc.stdout


def test_audit1_a_git_ref_is_rendered_in_a_temporary_tree_and_cached(tmp_path: Path) -> None:
    """AUDIT-1: FROM=HEAD renders HEAD's tree (git archive into a temporary directory), caches it by commit, and the working tree is untouched."""
    before = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    log = io.StringIO()
    label, doc = diff.render_ref("HEAD", "prod", log, cache=tmp_path)
    sha = diff.resolve_commit("HEAD")
    assert sha and label == f"HEAD ({sha[:10]})" and (tmp_path / f"{sha}.prod.json").is_file()
    assert "temporary copy" in log.getvalue()
    assert any(r["type"] == DB for r in doc["deployment"]["resources"])
    again = io.StringIO()
    assert diff.render_ref("HEAD", "prod", again, cache=tmp_path)[1] == doc
    assert "cached render" in again.getvalue()
    assert subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True).stdout == before
    with pytest.raises(diff.DiffError, match="neither an existing file nor a git ref"):
        diff.render_ref("no-such-branch-kakoi", "prod", log, cache=tmp_path)


def test_audit1_default_base_falls_back_from_origin_main_and_says_so() -> None:
    """AUDIT-1: without origin/main the default base is main (or HEAD), and the tool says which."""
    log = io.StringIO()
    ref = diff.default_from(log)
    assert diff.resolve_commit(ref)
    if ref == "origin/main":
        assert log.getvalue() == ""
    else:
        assert f"origin/main does not exist here; comparing against {ref}" in log.getvalue()
