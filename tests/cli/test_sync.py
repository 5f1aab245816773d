"""A team's desk: clones of one desk share it through a real git remote (a bare repository
by path, and `git daemon` on 127.0.0.1), with numbers renumbered when another clone gave
them first and tickets merged by their histories, never by git conflict markers."""

import json
from email import message_from_bytes, policy
import subprocess
import time

import pytest
import yaml

from svcdesk.base.errors import ExitCode

from conftest import commit_all, git
from servers import free_port, listening, smtp  # noqa: F401  (smtp: the fixture)

INQUIRY = ("new", "--type", "inquiry", "--customer", "张三", "--description", "问一下", "-q")


@pytest.fixture
def team(make_desk, tmp_path, run):
    """Clone a (made by init, pushed to a bare repository) and clone b (svcdesk clone)."""
    a = make_desk(name="a").root
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(a, "remote", "add", "origin", str(remote))
    git(a, "push", "-q", "-u", "origin", "main")
    result = run("clone", f"file://{remote}", tmp_path / "b")  # git's pack protocol
    assert result.exit_code == 0, result.stderr
    return a, tmp_path / "b", remote


def rules_changed_on_both_sides(a, b):
    """rules.yaml changed by hand in both clones, each its own way: a conflict that sync
    cannot merge."""
    for root, limit in ((a, "20"), (b, "25")):
        text = (root / "rules.yaml").read_text(encoding="utf-8")
        (root / "rules.yaml").write_text(text.replace("capacity: 20", f"capacity: {limit}0", 1),
                                         encoding="utf-8")
        commit_all(root, f"capacity {limit}0")


def on(root, run, *args, **given):
    return run("--desk", root, *args, **given)


def converge(a, b, run):
    """a syncs, then b (taking a's work, giving its own), then a again: the two alike.
    Returns b's sync."""
    assert on(a, run, "sync").exit_code == 0
    result = on(b, run, "sync")
    assert result.exit_code == 0, result.stderr
    assert on(a, run, "sync").exit_code == 0
    assert tree(a) == tree(b)
    return result


def tree(root) -> str:
    return git(root, "ls-tree", "-r", "HEAD")


def ticket(root, number) -> dict:
    path = root / f"tickets/{number[3:7]}/{number[7:9]}/{number}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_two_clones_numbering_the_same_day_are_renumbered_and_end_alike(team, run):
    a, b, _ = team
    assert on(a, run, *INQUIRY, "--title", "保修期多久").stdout.strip() == "SD-20261122-0001"
    assert on(b, run, *INQUIRY, "--title", "发票怎么开").stdout.strip() == "SD-20261122-0001"
    assert "provisional" in on(b, run, "--as", "li.qiang", "show", "1122-1").stdout or \
        "编号暂定" in on(b, run, "show", "1122-1").stdout
    first = on(b, run, "sync")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == "synced with origin/main: ↓ 0 changes, ↑ 1 change\n"
    assert "编号暂定" not in on(b, run, "show", "1122-1").stdout  # pushed: final
    second = on(a, run, "sync")
    assert second.exit_code == 0, second.stderr
    assert second.stdout == ("synced with origin/main: ↓ 1 change, ↑ 2 changes, "
                             "SD-20261122-0002 renumbered from SD-20261122-0001\n")
    assert on(b, run, "sync").exit_code == 0
    assert tree(a) == tree(b)
    assert ticket(a, "SD-20261122-0001")["title"] == "发票怎么开"
    moved = ticket(a, "SD-20261122-0002")
    assert moved["title"] == "保修期多久" and moved["id"] == "SD-20261122-0002"
    assert moved["events"][-1]["action"] == "renumber"
    assert moved["events"][-1]["changes"]["id"] == {"from": "SD-20261122-0001",
                                                   "to": "SD-20261122-0002"}
    listed = json.loads(on(b, run, "list", "--format", "json").stdout)
    assert sorted(t["id"] for t in listed) == ["SD-20261122-0001", "SD-20261122-0002"]
    assert git(a, "status", "--porcelain") == "" and git(b, "status", "--porcelain") == ""


def test_changes_to_one_ticket_in_two_clones_merge_by_their_histories(team, run, monkeypatch):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(a, run, "sync")
    on(b, run, "sync")
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-22T10:10:00+08:00")
    on(a, run, "comment", "1122-1", "-m", "A：已联系客户")
    on(a, run, "priority", "1122-1", "P2", "-m", "客户着急")
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-22T10:20:00+08:00")
    on(b, run, "comment", "1122-1", "-m", "B：客户又来电")
    on(b, run, "priority", "1122-1", "P3", "-m", "可以等")
    assert on(a, run, "sync").exit_code == 0
    result = on(b, run, "sync")
    assert result.exit_code == 0, result.stderr
    assert on(a, run, "sync").exit_code == 0
    assert tree(a) == tree(b)
    data = ticket(b, "SD-20261122-0001")
    assert [e["note"] for e in data["events"] if e["action"] == "comment"] == [
        "A：已联系客户", "B：客户又来电"]
    assert data["priority"] == "P3"  # the later change
    assert "<<<<<<<" not in (b / "tickets/2026/11/SD-20261122-0001.yaml").read_text()
    shown = json.loads(on(a, run, "show", "1122-1", "--format", "json").stdout)
    assert shown["conflicts"] == [{"event": data["events"][-1]["id"], "field": "priority",
                                   "made_on": "P4", "found": "P2"}]
    assert "两个副本同时修改了优先级" in on(a, run, "show", "1122-1").stdout


def test_a_time_rule_step_both_clones_took_is_kept_once(team, run, monkeypatch):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(a, run, "sync")
    on(b, run, "sync")
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-25T10:00:00+08:00")  # response long missed
    assert "breach: response" in on(a, run, "sla", "check").stdout
    assert "breach: response" in on(b, run, "sla", "check").stdout
    on(a, run, "sync")
    on(b, run, "sync")
    on(a, run, "sync")
    assert tree(a) == tree(b)
    rules = [e.get("rule") for e in ticket(a, "SD-20261122-0001")["events"]]
    assert rules.count("breach: response") == 1


def test_a_plain_git_clone_reads_but_changes_nothing_until_setup(team, run, tmp_path):
    _, _, remote = team
    plain = tmp_path / "plain"
    git(tmp_path, "clone", "-q", str(remote), str(plain))
    assert on(plain, run, "list").exit_code == 0
    refused = on(plain, run, *INQUIRY, "--title", "保修期多久")
    assert refused.exit_code == ExitCode.NOT_SET_UP
    assert "svcdesk setup" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert git(plain, "status", "--porcelain") == ""
    setup = on(plain, run, "setup")
    assert setup.exit_code == 0 and "merge driver" in setup.stdout
    assert on(plain, run, "setup").stdout == "This clone was already set up\n"
    assert on(plain, run, *INQUIRY, "--title", "保修期多久").exit_code == 0


def test_an_old_desk_without_the_attributes_gets_them_committed_by_setup(make_desk, run):
    root = make_desk().root
    git(root, "rm", "-q", ".gitattributes")
    commit_all(root, "no attributes")
    git(root, "config", "--unset-all", "merge.svcdesk.driver")
    assert run("setup").exit_code == 0
    assert "merge=svcdesk" in (root / ".gitattributes").read_text()
    assert git(root, "status", "--porcelain") == ""


def test_a_desk_in_the_middle_of_a_merge_changes_nothing_and_says_how_to_finish(team, run):
    a, b, _ = team
    rules_changed_on_both_sides(a, b)
    git(a, "push", "-q")
    git(b, "fetch", "-q")
    subprocess.run(("git", "-c", "user.name=t", "-c", "user.email=t@example.com", "merge",
                    "origin/main"), cwd=b, capture_output=True)
    assert (b / ".git/MERGE_HEAD").exists()
    refused = on(b, run, "comment", "1122-1", "-m", "x")
    assert refused.exit_code == ExitCode.CONFLICT
    assert "git merge --abort" in refused.stderr


def test_rules_changed_on_both_sides_stop_the_sync_and_leave_the_desk_as_it_was(team, run):
    a, b, _ = team
    on(b, run, *INQUIRY, "--title", "发票怎么开")
    rules_changed_on_both_sides(a, b)
    on(a, run, *INQUIRY, "--title", "保修期多久")
    assert on(a, run, "sync").exit_code == 0
    before = git(b, "rev-parse", "HEAD")
    result = on(b, run, "sync")
    assert result.exit_code == ExitCode.CONFLICT
    assert "rules.yaml" in result.stderr and len(result.stderr.splitlines()) == 1
    assert git(b, "rev-parse", "HEAD") == before  # the renumbering undone too
    assert git(b, "status", "--porcelain") == "" and not (b / ".git/MERGE_HEAD").exists()
    assert on(b, run, "show", "SD-20261122-0001").exit_code == 0


def test_a_dry_run_fetches_and_says_what_would_happen_but_changes_nothing(team, run):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(a, run, "sync")
    on(b, run, *INQUIRY, "--title", "发票怎么开")
    before = git(b, "rev-parse", "HEAD")
    result = on(b, run, "sync", "--dry-run")
    assert result.stdout == ("would sync with origin/main: ↓ 1 change, ↑ 1 change, "
                             "SD-20261122-0002 would be renumbered from SD-20261122-0001\n")
    assert git(b, "rev-parse", "HEAD") == before
    assert (b / "tickets/2026/11/SD-20261122-0001.yaml").exists()


def test_a_push_refused_because_another_clone_pushed_first_is_tried_again(team, run, tmp_path):
    a, b, remote = team
    # while b pushes, a gets in first (a pre-push hook that runs once)
    on(a, run, *INQUIRY, "--title", "保修期多久")
    hook = b / ".git/hooks/pre-push"
    hook.write_text(f"#!/bin/sh\nrm -f \"$0\"\nunset GIT_DIR GIT_WORK_TREE\ngit -C '{a}' push -q origin main\n")
    hook.chmod(0o755)
    on(b, run, *INQUIRY, "--title", "发票怎么开")
    result = on(b, run, "sync")
    assert result.exit_code == 0, result.stderr
    assert "SD-20261122-0002 renumbered from SD-20261122-0001" in result.stdout
    assert git(b, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")


def test_an_unreachable_remote_is_one_line_and_changes_nothing(team, run, tmp_path):
    _, b, _ = team
    git(b, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    on(b, run, *INQUIRY, "--title", "发票怎么开")
    before = git(b, "rev-parse", "HEAD")
    result = on(b, run, "sync")
    assert result.exit_code == ExitCode.REMOTE
    assert len(result.stderr.splitlines()) == 1 and "gone.git" in result.stderr
    assert git(b, "rev-parse", "HEAD") == before


def test_sync_without_a_remote_says_how_to_add_one(desk, run):
    result = run("sync")
    assert result.exit_code == ExitCode.USAGE and "git remote add" in result.stderr


# ---- over git's own protocol ------------------------------------------------------------------

@pytest.fixture
def daemon(tmp_path):
    """A bare repository served by `git daemon` on 127.0.0.1 (push enabled)."""
    served = tmp_path / "served"
    served.mkdir()
    port = free_port()
    proc = subprocess.Popen(("git", "daemon", "--reuseaddr", "--export-all",
                             "--enable=receive-pack", f"--base-path={served}",
                             "--listen=127.0.0.1", f"--port={port}", str(served)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    listening(port)
    yield served, f"git://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.slow
def test_two_clones_share_a_desk_through_git_daemon(make_desk, run, daemon, tmp_path):
    served, url = daemon
    a = make_desk(name="a").root
    git(served, "init", "-q", "--bare", "desk.git")
    git(a, "remote", "add", "origin", f"{url}/desk.git")
    git(a, "push", "-q", "-u", "origin", "main")
    assert run("clone", f"{url}/desk.git", tmp_path / "b").exit_code == 0
    b = tmp_path / "b"
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(b, run, *INQUIRY, "--title", "发票怎么开")
    assert "renumbered" in converge(a, b, run).stdout
    assert git(served / "desk.git", "rev-parse", "main") == git(a, "rev-parse", "HEAD")
    git(served / "desk.git", "fsck", "--no-progress")  # raises unless the repository is sound


# ---- notices wait for a final number ------------------------------------------------------------

def test_customer_notices_wait_for_a_final_number_and_follow_a_renumbering(team, run,
                                                                           monkeypatch):
    from servers import start_server

    a, b, _ = team
    port = free_port()
    controller, inbox = start_server(port)
    monkeypatch.setenv("SVCDESK_SMTP_URL", f"smtp://127.0.0.1:{port}")
    try:
        with_email = (*INQUIRY, "--email", "zhang.san@example.cn")
        on(a, run, *with_email, "--title", "保修期多久")
        on(b, run, *with_email, "--title", "发票怎么开")
        sent = on(b, run, "notify", "send")
        assert sent.exit_code == 0, sent.stderr
        # the agents hear at once; the customer's acknowledgement waits for a final number
        assert inbox.messages and all("zhang.san@example.cn" not in to
                                      for to, _ in inbox.messages)
        waiting = json.loads(on(b, run, "notify", "list", "--format", "json").stdout)
        assert [(n["ticket"], n["to"]) for n in waiting] == [("SD-20261122-0001",
                                                              "zhang.san@example.cn")]
        assert on(a, run, "sync").exit_code == 0  # a's ticket takes 0001 first
        assert "renumbered" in on(b, run, "sync").stdout
        moved = json.loads(on(b, run, "notify", "list", "--format", "json").stdout)
        assert [(n["ticket"], n["state"]) for n in moved] == [("SD-20261122-0002",
                                                               "renumbered")]
        before = len(inbox.messages)
        assert on(b, run, "notify", "send").exit_code == 0
        to, data = inbox.messages[before]
        message = message_from_bytes(data, policy=policy.default)
        assert to == ["zhang.san@example.cn"] and "[SD-20261122-0002]" in message["subject"]
        assert "SD-20261122-0001" not in message.get_body().get_content()
    finally:
        controller.stop()


@pytest.mark.slow  # an SMTP server
def test_a_fetch_that_brings_another_clones_ticket_of_the_same_number_makes_ours_not_final(
        team, run, smtp):
    """After a `git fetch` by hand (or a sync killed between its fetch and its renumbering)
    the remote branch has b's number, but another clone's ticket: b's customer is not told
    a number that the next sync changes, and b's ticket is still shown as provisional."""
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    assert on(a, run, "sync").exit_code == 0
    on(b, run, *INQUIRY, "--title", "发票怎么开", "--email", "zhang.san@example.cn")
    git(b, "fetch", "-q")
    assert on(b, run, "notify", "send").exit_code == 0
    assert all("zhang.san@example.cn" not in to for to, _ in smtp.messages)
    assert "编号暂定" in on(b, run, "show", "1122-1").stdout
    assert "renumbered" in on(b, run, "sync").stdout
    assert on(b, run, "notify", "send").exit_code == 0
    told = [m for to, m in smtp.parsed() if to == ["zhang.san@example.cn"]]
    assert len(told) == 1 and "[SD-20261122-0002]" in told[0]["subject"]


@pytest.mark.slow  # an SMTP server
def test_queued_notices_find_their_ticket_when_a_refused_merge_undid_its_renumbering(
        team, run, smtp):
    """A sync renumbers, moves the notices with the ticket, then meets a conflict and puts
    the desk back: the notices point at a number that is not there. (kill -9 between the
    renumbering commit and the outbox's move leaves the opposite.) Delivery finds the
    ticket by its uid and sends them with the number it has."""
    a, b, _ = team
    rules_changed_on_both_sides(a, b)
    on(a, run, *INQUIRY, "--title", "保修期多久")
    assert on(a, run, "sync").exit_code == 0
    on(b, run, *INQUIRY, "--title", "发票怎么开", "--email", "zhang.san@example.cn")
    refused = on(b, run, "sync")
    assert refused.exit_code == ExitCode.CONFLICT and "rules.yaml" in refused.stderr
    assert ticket(b, "SD-20261122-0001")["title"] == "发票怎么开"  # put back as it was
    sent = on(b, run, "notify", "send")
    assert sent.exit_code == 0, sent.stderr
    subjects = [m["subject"] for _, m in smtp.parsed()]
    assert any("[SD-20261122-0001]" in s and "发票怎么开" in s for s in subjects), subjects
    waiting = json.loads(on(b, run, "notify", "list", "--format", "json").stdout)
    assert [(n["ticket"], n["to"], n["error"]) for n in waiting] == [
        ("SD-20261122-0001", "zhang.san@example.cn", "")]  # the customer's: not yet final


@pytest.mark.slow  # an SMTP server
def test_a_notice_left_at_its_old_number_finds_its_ticket_when_another_took_the_number(
        team, run, smtp):
    """A sync killed between its renumbering commit and the outbox's move leaves the
    customer's notice at the old number, whose path now holds the other clone's ticket:
    it still goes to its own ticket, with the new number (found by its uid, not its path)."""
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    assert on(a, run, "sync").exit_code == 0
    on(b, run, *INQUIRY, "--title", "发票怎么开", "--email", "zhang.san@example.cn")
    assert "renumbered" in on(b, run, "sync").stdout
    for meta in (b / ".git/svcdesk/outbox").glob("*.json"):  # as the kill left it
        entry = json.loads(meta.read_text(encoding="utf-8"))
        entry.update(number="SD-20261122-0001", relpath="tickets/2026/11/SD-20261122-0001.yaml",
                     state="pending")
        meta.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
    assert ticket(b, "SD-20261122-0001")["title"] == "保修期多久"  # a's ticket, there now
    sent = on(b, run, "notify", "send")
    assert sent.exit_code == 0, sent.stderr
    told = [m for to, m in smtp.parsed() if to == ["zhang.san@example.cn"]]
    assert len(told) == 1 and "[SD-20261122-0002]" in told[0]["subject"], sent.stdout


# ---- kill -9 in the middle of a sync --------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 11, 23])
def test_a_sync_killed_at_any_moment_is_completed_by_the_next_with_nothing_lost(team, run,
                                                                               seed):
    import random
    import signal

    from conftest import svcdesk_process

    a, b, remote = team
    on(a, run, *INQUIRY, "--title", "共同的")
    made = ["共同的"]
    assert on(a, run, "sync").exit_code == 0 and on(b, run, "sync").exit_code == 0
    rng = random.Random(seed)
    killed = []  # whether each killed sync had moved HEAD (renumbered or merged) by then
    for round_ in range(12):
        on(a, run, *INQUIRY, "--title", f"甲{round_}")
        made.append(f"甲{round_}")
        assert on(a, run, "sync").exit_code == 0
        on(b, run, *INQUIRY, "--title", f"乙{round_}")
        made.append(f"乙{round_}")
        on(b, run, "comment", "SD-20261122-0001", "-m", f"乙的第{round_}条")
        before = git(b, "rev-parse", "HEAD")
        proc = svcdesk_process("--desk", b, "sync", cwd=b)
        time.sleep(rng.uniform(0.05, 0.9))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        killed.append(git(b, "rev-parse", "HEAD") != before)
        again = on(b, run, "sync")
        assert again.exit_code == 0, (round_, again.stderr)
        assert git(b, "status", "--porcelain") == ""
        assert not (b / ".git/MERGE_HEAD").exists()
    assert True in killed and False in killed  # killed before and after it changed the desk
    assert on(a, run, "sync").exit_code == 0
    git(b, "fsck", "--no-progress")
    git(remote, "fsck", "--no-progress")
    assert tree(a) == tree(b) == git(remote, "ls-tree", "-r", "main")
    listed = json.loads(on(a, run, "list", "--status", "all", "--format", "json").stdout)
    assert sorted(t["title"] for t in listed) == sorted(made)
    assert len({t["id"] for t in listed}) == len(made)
    comments = [e["note"] for e in ticket(a, "SD-20261122-0001")["events"]
                if e["action"] == "comment"]
    assert comments == [f"乙的第{n}条" for n in range(12)]


def test_a_merge_a_killed_sync_left_half_done_is_undone_by_the_next_change(team, run):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(a, run, "sync")
    on(b, run, *INQUIRY, "--title", "发票怎么开")
    start = git(b, "rev-parse", "HEAD").strip()
    git(b, "fetch", "-q")
    theirs = git(b, "rev-parse", "origin/main").strip()
    # as a sync killed during git's merge leaves it: its journal, and git's merge state
    (b / ".git/svcdesk/merging.json").write_text(json.dumps({"start": start,
                                                             "theirs": theirs}))
    subprocess.run(("git", "-c", "user.name=t", "-c", "user.email=t@example.com", "merge",
                    "-q", "--no-commit", "--no-ff", "origin/main"), cwd=b, capture_output=True)
    assert (b / ".git/MERGE_HEAD").exists()  # both made 0001: a conflict, half merged
    result = on(b, run, "comment", "1122-1", "-m", "继续处理")
    assert result.exit_code == 0, result.stderr
    assert not (b / ".git/MERGE_HEAD").exists() and git(b, "status", "--porcelain") == ""
    assert git(b, "rev-parse", "HEAD~1").strip() == start  # the merge undone, then the comment
    assert on(b, run, "sync").exit_code == 0
    assert tree(a) != tree(b) and on(a, run, "sync").exit_code == 0 and tree(a) == tree(b)


# ---- three clones, random work, syncs at random moments: they converge ---------------------------

def _uids(root) -> dict:
    """{uid: number} of the tickets in a clone's working tree."""
    out = {}
    for path in (root / "tickets").glob("*/*/*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[data["uid"]] = data["id"]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_three_clones_doing_random_work_converge_with_nothing_lost(team, run, tmp_path,
                                                                     monkeypatch, seed):
    import random
    from datetime import datetime, timedelta

    a, b, remote = team
    assert run("clone", remote, tmp_path / "c").exit_code == 0
    clones = [a, b, tmp_path / "c"]
    rng = random.Random(seed)
    now = datetime.fromisoformat("2026-11-23T08:30:00+08:00")
    titles, notes = {}, {}  # what each acknowledged change left: title -> uid, note -> uid
    final = {}  # uid -> the number a sync made final
    for step in range(200):
        now += timedelta(minutes=rng.choice((3, 7, 20, 45)))
        monkeypatch.setenv("SVCDESK_NOW", now.isoformat())
        root = rng.choice(clones)
        known = _uids(root)
        kind = rng.random()
        if kind < 0.25 or not known:
            title = f"工单{seed}-{step}"
            result = on(root, run, *INQUIRY, "--title", title)
            assert result.exit_code == 0, result.stderr
            number = result.stdout.strip()
            titles[title] = ticket(root, number)["uid"]
        elif kind < 0.55:
            uid = rng.choice(sorted(known))
            note = f"备注{seed}-{step}"
            result = on(root, run, "comment", known[uid], "-m", note)
            if result.exit_code == 0:
                notes[note] = uid
        elif kind < 0.75:
            uid = rng.choice(sorted(known))
            action = rng.choice((("start",), ("wait", "-m", "等客户"), ("resume",),
                                 ("resolve", "-m", "已处理"), ("priority", "P2", "-m", "急")))
            on(root, run, "--as", "li.qiang", action[0], known[uid], *action[1:])
        elif kind < 0.8:
            assert on(root, run, "sla", "check").exit_code in (0, ExitCode.CONFLICT)
        else:
            result = on(root, run, "sync")
            assert result.exit_code == 0, result.stderr
            there = {p.rsplit("/", 1)[1][:-5] for p in git(
                remote, "ls-tree", "-r", "--name-only", "main", "tickets/").split()
                if p.endswith(".yaml")}
            for uid, number in _uids(root).items():
                if number in there:
                    assert final.setdefault(uid, number) == number  # final never changes
    for _ in range(2):  # the last round: everyone syncs, twice
        for root in clones:
            result = on(root, run, "sync")
            assert result.exit_code == 0, result.stderr
    assert tree(a) == tree(b) == tree(clones[2])
    for root in clones:
        assert git(root, "status", "--porcelain") == ""
    uids = _uids(a)
    assert len(set(uids.values())) == len(uids)  # no two tickets share a number
    assert set(titles.values()) <= set(uids)  # every ticket made is there
    for uid, number in final.items():
        assert uids[uid] == number
    for title, uid in titles.items():
        assert ticket(a, uids[uid])["title"] == title
    for note, uid in notes.items():  # every comment on the ticket it was made on
        assert note in [e.get("note") for e in ticket(a, uids[uid])["events"]]
    git(remote, "fsck", "--no-progress")
    histories = [ticket(a, number)["events"] for number in uids.values()]
    assert any(e["action"] == "renumber" for h in histories for e in h)  # it was tried


# ---- a desk that syncs by itself --------------------------------------------------------------------

def _auto(a, b, run):
    text = (a / "rules.yaml").read_text(encoding="utf-8")
    (a / "rules.yaml").write_text(text.replace("  manager: he.wei", "  manager: he.wei\n"
                                               "  sync: auto", 1), encoding="utf-8")
    commit_all(a, "sync by itself")
    assert on(a, run, "sync").exit_code == 0 and on(b, run, "sync").exit_code == 0


def test_a_desk_that_syncs_by_itself_gives_final_numbers_at_once(team, run):
    a, b, remote = team
    _auto(a, b, run)
    assert on(a, run, *INQUIRY, "--title", "保修期多久").stdout == "SD-20261122-0001\n"
    made = on(b, run, *INQUIRY, "--title", "发票怎么开")
    assert made.stdout == "SD-20261122-0002\n" and made.stderr == ""
    assert git(remote, "rev-parse", "main") == git(b, "rev-parse", "HEAD")
    assert "编号暂定" not in on(b, run, "show", "1122-2").stdout
    assert on(a, run, "comment", "1122-2", "-m", "A 看到了").exit_code == 0  # pulled first
    assert git(remote, "rev-parse", "main") == git(a, "rev-parse", "HEAD")


def test_a_number_taken_while_the_command_ran_is_renumbered_before_it_is_printed(team, run):
    a, b, _ = team
    _auto(a, b, run)
    text = (a / "rules.yaml").read_text(encoding="utf-8")  # a works by hand meanwhile
    (a / "rules.yaml").write_text(text.replace("  sync: auto", "  sync: manual"),
                                  encoding="utf-8")
    commit_all(a, "a syncs by hand")
    on(a, run, *INQUIRY, "--title", "保修期多久")
    hook = b / ".git/hooks/pre-push"  # a pushes 0001 just before b does
    hook.write_text(f"#!/bin/sh\nrm -f \"$0\"\nunset GIT_DIR GIT_WORK_TREE\n"
                    f"git -C '{a}' push -q origin main\n")
    hook.chmod(0o755)
    made = on(b, run, *INQUIRY, "--title", "发票怎么开")
    assert made.exit_code == 0, made.stderr
    assert made.stdout == "SD-20261122-0002\n"
    assert "SD-20261122-0001 was taken by another clone first" in made.stderr
    assert ticket(b, "SD-20261122-0002")["title"] == "发票怎么开"


def test_offline_a_desk_that_syncs_by_itself_works_on_and_says_so_in_one_line(team, run,
                                                                               tmp_path):
    a, b, _ = team
    _auto(a, b, run)
    git(b, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    made = on(b, run, *INQUIRY, "--title", "发票怎么开")
    assert made.exit_code == 0 and made.stdout == "SD-20261122-0001\n"
    assert len(made.stderr.splitlines()) == 1 and "offline" in made.stderr
    assert "编号暂定" in on(b, run, "show", "1122-1").stdout


def test_a_ticket_deleted_on_one_side_and_changed_on_the_other_stops_the_sync(team, run):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(a, run, "sync")
    on(b, run, "sync")
    git(a, "rm", "-q", "tickets/2026/11/SD-20261122-0001.yaml")
    commit_all(a, "deleted by hand")
    on(a, run, "sync")
    on(b, run, "comment", "1122-1", "-m", "还在处理")
    before = git(b, "rev-parse", "HEAD")
    result = on(b, run, "sync")
    assert result.exit_code == ExitCode.CONFLICT
    assert "SD-20261122-0001.yaml" in result.stderr and len(result.stderr.splitlines()) == 1
    assert git(b, "rev-parse", "HEAD") == before and git(b, "status", "--porcelain") == ""


def test_a_renumbering_never_takes_a_number_a_file_on_disk_holds(team, run):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(a, run, "sync")
    on(b, run, *INQUIRY, "--title", "发票怎么开")
    stray = b / "tickets/2026/11/SD-20261122-0002.yaml"  # a copy left by hand, not in git
    stray.write_text((b / "tickets/2026/11/SD-20261122-0001.yaml").read_text())
    result = on(b, run, "sync")
    assert result.exit_code == 0, result.stderr
    assert "SD-20261122-0003 renumbered from SD-20261122-0001" in result.stdout
    assert stray.read_text() != (b / "tickets/2026/11/SD-20261122-0003.yaml").read_text()


def test_a_remote_that_keeps_refusing_the_push_is_one_line_and_loses_nothing(team, run):
    a, b, remote = team
    hook = remote / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed for maintenance' >&2\nexit 1\n")
    hook.chmod(0o755)
    on(b, run, *INQUIRY, "--title", "发票怎么开")
    result = on(b, run, "sync")
    assert result.exit_code == ExitCode.REMOTE and len(result.stderr.splitlines()) == 1
    assert "refused the push" in result.stderr
    assert (b / "tickets/2026/11/SD-20261122-0001.yaml").exists()
    hook.unlink()
    assert on(b, run, "sync").exit_code == 0


def test_a_new_number_skips_those_the_remote_is_known_to_have(team, run):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(a, run, "sync")
    git(b, "fetch", "-q")  # b has seen a's ticket on the remote, not merged it yet
    assert on(b, run, *INQUIRY, "--title", "发票怎么开").stdout == "SD-20261122-0002\n"
    result = on(b, run, "sync")
    assert result.exit_code == 0 and "renumbered" not in result.stdout


def test_undoing_a_killed_merge_keeps_a_persons_uncommitted_edit(team, run):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(a, run, *INQUIRY, "--title", "发票怎么开")
    on(a, run, "sync")
    on(b, run, "sync")
    on(a, run, *INQUIRY, "--title", "能上门吗")
    on(a, run, "comment", "1122-1", "-m", "A 的备注")
    on(a, run, "sync")
    git(b, "fetch", "-q")
    start = git(b, "rev-parse", "HEAD").strip()
    theirs = git(b, "rev-parse", "origin/main").strip()
    # as a fast-forward killed halfway leaves it: some of the remote's files written, HEAD
    # not moved; and a hand edit, not committed, in another ticket
    (b / ".git/svcdesk/merging.json").write_text(json.dumps({"start": start,
                                                             "theirs": theirs}))
    added = "tickets/2026/11/SD-20261122-0003.yaml"
    (b / added).write_text(git(b, "show", f"{theirs}:{added}"))
    (b / "tickets/2026/11/SD-20261122-0001.yaml").write_text(
        git(b, "show", f"{theirs}:tickets/2026/11/SD-20261122-0001.yaml"))
    edited = b / "tickets/2026/11/SD-20261122-0002.yaml"
    edited.write_text(edited.read_text().replace("发票怎么开", "发票怎么开（急）"))
    result = on(b, run, "--as", "li.qiang", "start", "SD-20261122-0001")
    assert result.exit_code == 0, result.stderr
    assert not (b / added).exists()  # the merge's own file, taken back
    assert "A 的备注" not in (b / "tickets/2026/11/SD-20261122-0001.yaml").read_text()
    assert "发票怎么开（急）" in edited.read_text()  # the person's edit, kept
    assert git(b, "status", "--porcelain").split() == ["M", "tickets/2026/11/SD-20261122-0002.yaml"]


def test_a_desk_that_syncs_by_itself_keeps_a_change_whose_sync_meets_a_conflict(team, run):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    _auto(a, b, run)
    rules_changed_on_both_sides(a, b)
    hook = b / ".git/hooks/pre-push"  # a pushes its rules just before b's change goes out
    hook.write_text(f"#!/bin/sh\nrm -f \"$0\"\nunset GIT_DIR GIT_WORK_TREE\n"
                    f"git -C '{a}' push -q origin main\n")
    hook.chmod(0o755)
    result = on(b, run, "comment", "1122-1", "-m", "已电话联系")
    assert result.exit_code == 0, result.stderr
    assert "committed here but not synced" in result.stderr and "rules.yaml" in result.stderr
    assert "已电话联系" in (b / "tickets/2026/11/SD-20261122-0001.yaml").read_text()
    assert git(b, "status", "--porcelain") == "" and not (b / ".git/MERGE_HEAD").exists()
    refused = on(b, run, "comment", "1122-1", "-m", "再联系")  # its pull meets it: refused
    assert refused.exit_code == 8 and "rules.yaml" in refused.stderr


def test_files_attached_to_one_ticket_in_two_clones_all_travel_and_a_renumbering_keeps_them(
        team, run, monkeypatch):
    a, b, _ = team
    on(a, run, *INQUIRY, "--title", "保修期多久")
    on(a, run, "sync")
    on(b, run, "sync")
    on(b, run, *INQUIRY, "--title", "发票怎么开")  # provisional: will be renumbered
    on(b, run, "attach", "1122-2", "-", "--name", "发票.pdf", input=b"%PDF b")
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-22T10:10:00+08:00")
    on(a, run, *INQUIRY, "--title", "另一个问题")  # takes SD-20261122-0002 first
    on(a, run, "attach", "1122-1", "-", "--name", "照片.jpg", input=b"photo from a")
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-22T10:20:00+08:00")
    on(b, run, "attach", "1122-1", "-", "--name", "照片.jpg", input=b"photo from b")
    on(b, run, "attach", "1122-1", "-", "--name", "日志.txt", input=b"log from b")
    result = converge(a, b, run)
    assert "SD-20261122-0003 renumbered from SD-20261122-0002" in result.stdout
    for root in (a, b):
        names = [e.split("/", 1)[1] for e in ticket(root, "SD-20261122-0001")["attachments"]]
        assert sorted(names) == ["日志.txt", "照片.jpg", "照片.jpg"]
        assert on(root, run, "attachment", "1122-3", "发票.pdf").stdout_bytes == b"%PDF b"
        assert git(root, "status", "--porcelain") == ""
    shown = on(a, run, "show", "1122-1", "--format", "json").stdout
    assert json.loads(shown)["conflicts"] == []


def test_customers_and_units_travel_with_sync_and_two_clones_edits_merge(team, run):
    a, b, _ = team
    added = on(a, run, "customer", "add", "--name", "张伟", "--phone", "13912345678")
    customer = added.stdout.split()[0]
    converge(a, b, run)
    assert on(a, run, "customer", "edit", customer, "--region", "苏州").exit_code == 0
    assert on(b, run, "customer", "edit", customer, "--tier", "key",
              "--email", "zw@example.com").exit_code == 0
    assert on(a, run, "unit", "add", "SN1", "--model", "X1", "--customer", customer).exit_code == 0
    assert on(b, run, "unit", "add", "sn1", "--model", "X1-Pro", "--purchased",
              "2026-01-01").exit_code == 0
    converge(a, b, run)
    shown = json.loads(on(b, run, "customer", "show", customer, "--format", "json").stdout)
    assert (shown["region"], shown["tier"], shown["emails"]) == ("苏州", "key",
                                                                 ["zw@example.com"])
    unit = json.loads(on(a, run, "unit", "show", "SN1", "--format", "json").stdout)
    assert unit["model"] == "X1-Pro" and unit["customer"] == customer  # both additions kept
    assert [e["action"] for e in unit["events"]] == ["create", "add-again"]
    made = on(b, run, "new", "--type", "inquiry", "--description", "d", "--title", "t",
              "--phone", "139 1234 5678", "-q").stdout.strip()
    assert ticket(b, made)["customer"]["tier"] == "key"


def test_two_clones_using_the_last_unit_of_a_part_meet_at_sync_with_the_shortage_shown(team,
                                                                                      run):
    a, b, _ = team
    assert on(a, run, "parts", "add", "P-1", "--name", "定影组件", "--minimum", "1").exit_code == 0
    assert on(a, run, "parts", "receive", "P-1", "1").exit_code == 0
    one = on(a, run, *INQUIRY, "--title", "卡纸").stdout.strip()
    converge(a, b, run)
    assert on(a, run, "parts", "use", one, "P-1").exit_code == 0
    assert on(b, run, "parts", "use", one, "P-1").exit_code == 0  # each saw one in stock
    assert on(a, run, "sync").exit_code == 0
    met = on(b, run, "sync")
    assert met.exit_code == 0, met.stderr
    assert "part P-1 is short by 1 at 杭州总仓 after the merge" in met.stderr
    converge(a, b, run)
    level = json.loads(on(b, run, "parts", "stock", "--format", "json").stdout)[0]
    assert level["main"] == -1 and level["short"] == ["main"] and level["below_minimum"]
    assert "缺货 short" in on(a, run, "parts", "stock").stdout
    part = json.loads(on(a, run, "parts", "show", "P-1", "--format", "json").stdout)
    assert [e["action"] for e in part["events"]] == ["create", "receive", "use", "use"]
    used = [e for e in json.loads(on(a, run, "show", one, "--format", "json").stdout)["events"]
            if e["action"] == "part-use"]
    assert len(used) == 2  # both uses stay on the ticket
