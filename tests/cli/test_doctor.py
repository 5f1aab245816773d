"""`svcdesk doctor`: a desk checked as a careful admin would, each problem named with where it
is and what would fix it; `--fix` does the fixes that lose nothing and leaves the rest to a
person."""

import json
import shutil

from conftest import commit_all, git
from svcdesk.base.errors import ExitCode


def findings(run, *args):
    result = run("doctor", "--format", "json", *args)
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_a_healthy_desk_is_said_to_be_healthy(make_desk, run):
    make_desk(sample=True)
    result = run("doctor")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip() == "The desk is healthy: nothing to fix."


def test_every_kind_of_damage_is_named_and_the_safe_fixes_are_done(make_desk, run):
    desk = make_desk(sample=True)
    root = desk.root
    tickets = sorted(root.glob("tickets/*/*/*.yaml"))
    edited, copied = tickets[0], tickets[1]
    edited.write_text(edited.read_text(encoding="utf-8").replace(
        "\ntitle: ", "\ntitle: 改过的", 1), encoding="utf-8")
    twin = copied.parent / "SD-20261101-0099.yaml"
    shutil.copy(copied, twin)
    linked = tickets[2]
    linked.write_text(linked.read_text(encoding="utf-8").replace(
        "\ntitle: ", "\nlinks:\n  related: [01J0000000000000000000GONE]\ntitle: ", 1),
        encoding="utf-8")
    (root / "tickets" / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    (root / "notes.txt").write_text("smtp: smtps://desk:hunter2@mail.example.com:465\n",
                                    encoding="utf-8")
    commit_all(root, "by hand")
    outbox = root / ".git" / "svcdesk" / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / "torn.json").write_text('{"to": ', encoding="utf-8")
    (outbox / "orphan.eml").write_bytes(b"Subject: hello\r\n\r\nbody\r\n")
    (root / ".git" / "index.lock").write_bytes(b"")
    git(root, "config", "--remove-section", "merge.svcdesk")
    head = git(root, "rev-parse", "HEAD")

    code, found = findings(run)
    assert code == ExitCode.UNHEALTHY
    said = {(f["check"], f["where"]): f for f in found}
    rel = lambda p: p.relative_to(root).as_posix()  # noqa: E731
    assert ("interrupted", "index.lock") in said
    assert "title" in said[("history", rel(edited))]["problem"]
    assert any(k == ("numbers", rel(twin)) for k in said)
    assert "names 01J0000000000000000000GONE, no ticket" in said[("links", rel(linked))][
        "problem"]
    assert ("files", "tickets/notes.yaml") in said
    assert ("merge driver", "git config") in said
    assert "a password in an SMTP address" in said[("secrets", "notes.txt:1")]["problem"]
    assert ("outbox", "torn.json") in said and ("outbox", "orphan.eml") in said
    assert git(root, "rev-parse", "HEAD") == head  # without --fix, nothing changes
    assert (root / ".git" / "index.lock").exists() and (outbox / "torn.json").exists()
    assert "hunter2" not in run("doctor").stdout.replace("notes.txt:1", "")

    code, fixed = findings(run, "--fix")
    done = {(f["check"], f["where"]) for f in fixed if f["fixed"]}
    assert done == {("interrupted", "index.lock"), ("history", rel(edited)),
                    ("history", rel(linked)),  # its link was written by hand too
                    ("merge driver", "git config"), ("outbox", "torn.json"),
                    ("outbox", "orphan.eml")}
    assert not (root / ".git" / "index.lock").exists()
    aside = root / ".git" / "svcdesk" / "outbox-aside"
    assert sorted(p.name for p in aside.iterdir()) == ["orphan.eml", "torn.json"]  # kept
    events = json.loads(run("show", edited.stem, "--format", "json").stdout)["events"]
    assert events[-1]["action"] == "hand-edit"
    code, left = findings(run)
    assert code == ExitCode.UNHEALTHY
    assert {f["check"] for f in left} == {"numbers", "links", "files", "secrets"}
    assert all(not f["fix"] for f in left)  # what is left is a person's to decide


def test_a_reading_command_puts_right_what_a_killed_change_left_and_doctor_only_says_it(
        make_desk, run):
    """As a change killed between writing its files and committing them leaves the desk:
    the journal names the files, which hold what was never committed. A later command that
    only reads (here `list`, and `sla check` when nothing is due) must not show them, nor
    leave them for `git status`; doctor names them and puts them right only with --fix."""
    desk = make_desk(sample=True)
    root = desk.root
    path = sorted(root.glob("tickets/*/*/*.yaml"))[0]
    relpath = path.relative_to(root).as_posix()
    committed = path.read_bytes()
    head = git(root, "rev-parse", "HEAD").strip()

    def kill_mid_change():
        path.write_bytes(committed.replace(b"\ntitle: ", b"\ntitle: \xe5\x8d\x8a"))  # 半
        desk.state.journal.write_text(json.dumps({"head": head, "paths": [relpath]}))

    kill_mid_change()
    code, found = findings(run)
    assert code == ExitCode.UNHEALTHY and ("interrupted", "journal") in {
        (f["check"], f["where"]) for f in found}
    assert path.read_bytes() != committed  # doctor without --fix changes nothing
    listed = run("list", "--status", "all", "--format", "json")
    assert listed.exit_code == 0 and "半" not in listed.stdout
    assert path.read_bytes() == committed and not desk.state.journal.exists()
    assert git(root, "status", "--porcelain") == ""
    kill_mid_change()
    assert run("sla", "check", "--dry-run").exit_code == 0
    assert path.read_bytes() == committed and git(root, "status", "--porcelain") == ""
