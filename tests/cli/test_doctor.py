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
