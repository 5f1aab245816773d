"""Links between tickets and merged duplicates: both tickets show a link, one commit
writes both, loops and second originals are refused, a merged ticket's mail reaches its
original, the report counts a problem once, and two clones' links meet at sync."""

import json
from email.message import EmailMessage

from svcdesk.base.errors import ExitCode

from conftest import FAULT, commit_count, git
from test_sync import converge, on, team  # noqa: F401 - the fixture


def made(run, *args, title="电脑无法开机故障报修") -> str:
    args = list(FAULT[1:]) + list(args)
    args[args.index("--title") + 1] = title
    result = run("new", *args, "-q")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def shown(run, number) -> dict:
    result = run("show", number, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_link_is_on_both_tickets_in_one_commit(desk, run):
    a, b = made(run, title="打印机卡纸"), made(run, title="打印机又卡纸")
    before = commit_count(desk.root)
    result = run("link", b, a, "--as", "duplicate", "-m", "同一台打印机")
    assert result.exit_code == 0, result.stderr
    assert commit_count(desk.root) == before + 1
    changed = git(desk.root, "show", "--name-only", "--format=", "HEAD").split()
    assert len(changed) == 2
    assert shown(run, b)["linked"] == [{"as": "duplicate_of", "id": a, "title": "打印机卡纸",
                                       "status": "assigned"}]
    assert shown(run, a)["linked"][0]["as"] == "duplicates"
    assert shown(run, a)["links"]["duplicates"] == [shown(run, b)["uid"]]
    text = run("show", a).stdout
    assert "关联工单" in text and b in text and "重复工单" in text


def test_parent_and_caused_by_read_as_a_is_kind_of_b(desk, run):
    parent, child, cause = made(run), made(run), made(run)
    assert run("link", parent, child, "--as", "parent").exit_code == 0
    assert run("link", child, cause, "--as", "caused-by").exit_code == 0
    assert shown(run, child)["links"]["parent"] == [shown(run, parent)["uid"]]
    assert shown(run, parent)["links"]["children"] == [shown(run, child)["uid"]]
    assert shown(run, cause)["links"]["causes"] == [shown(run, child)["uid"]]
    other = made(run)
    result = run("link", other, child, "--as", "parent")  # a second parent
    assert result.exit_code == ExitCode.WORKFLOW and "one at most" in result.stderr


def test_a_loop_a_self_link_and_a_missing_ticket_are_refused_and_change_nothing(desk, run):
    a, b, c = made(run), made(run), made(run)
    assert run("link", a, b, "--as", "duplicate").exit_code == 0
    assert run("link", b, c, "--as", "duplicate").exit_code == 0
    before = commit_count(desk.root)
    result = run("link", c, a, "--as", "duplicate")
    assert result.exit_code == ExitCode.WORKFLOW and "loop" in result.stderr
    assert run("link", a, a).exit_code == ExitCode.WORKFLOW
    result = run("link", a, "SD-20261122-0099")
    assert result.exit_code == ExitCode.NOT_FOUND and "SD-20261122-0099" in result.stderr
    result = run("link", a, b, "--as", "related")
    assert result.exit_code == ExitCode.WORKFLOW and "already linked" in result.stderr
    assert commit_count(desk.root) == before


def test_unlink_takes_the_link_off_both(desk, run):
    a, b = made(run), made(run)
    assert run("link", a, b).exit_code == 0
    assert run("unlink", b, a).exit_code == 0
    assert shown(run, a).get("links") is None and shown(run, b).get("links") is None
    assert run("unlink", a, b).exit_code == ExitCode.WORKFLOW


def test_merge_closes_the_duplicate_and_gives_the_original_its_contact_and_a_pointer(desk, run):
    original = made(run, "--email", "")  # the phone call: no email
    second = run("new", "--type", "fault", "--title", "打印机卡纸 再次来信", "--customer", "张伟",
                 "--email", "zhang.wei@example.cn", "--product", "X1-Pro 笔记本",
                 "--purchased", "2026-03-15", "--phone", "13800000000",
                 "--description", "还是卡纸", "-q").stdout.strip()
    result = run("merge", second, "--into", original)
    assert result.exit_code == 0, result.stderr
    dup, orig = shown(run, second), shown(run, original)
    assert dup["status"] == "closed" and dup["links"]["duplicate_of"] == [orig["uid"]]
    assert original in dup["resolution"]
    assert orig["status"] == "assigned" and orig["links"]["duplicates"] == [dup["uid"]]
    assert orig["customer"]["email"] == "zhang.wei@example.cn"
    note = orig["events"][-1]
    assert note["action"] == "merge" and note["visibility"] == "internal"
    assert second in note["note"] and "还是卡纸" in note["note"]


def test_merging_into_itself_a_merged_ticket_or_twice_is_refused(desk, run):
    a, b, c = made(run), made(run), made(run)
    assert run("merge", a, "--into", a).exit_code == ExitCode.WORKFLOW
    assert run("merge", a, "--into", b).exit_code == 0
    before = commit_count(desk.root)
    result = run("merge", c, "--into", a)
    assert result.exit_code == ExitCode.WORKFLOW and f"merged into {b}" in result.stderr
    assert run("merge", a, "--into", c).exit_code == ExitCode.WORKFLOW  # already merged
    result = run("merge", b, "--into", a)  # the cycle
    assert result.exit_code == ExitCode.WORKFLOW
    assert commit_count(desk.root) == before


def test_a_reply_to_a_merged_tickets_mail_reaches_its_original(desk, run):
    original, second = made(run), made(run, title="又来信说打印机卡纸")
    assert run("merge", second, "--into", original).exit_code == 0
    msg = EmailMessage()
    msg["From"] = "张伟 <zhang.wei@example.cn>"
    msg["To"] = "service@example.com"
    msg["Subject"] = f"Re: [{second}] 又来信说打印机卡纸"
    msg["Message-ID"] = "<r1@example.cn>"
    msg.set_content("补充：卡纸位置在出纸口。")
    result = run("mail", "ingest", input=msg.as_bytes())
    assert result.exit_code == 0, result.stderr
    assert original in result.stdout
    assert "出纸口" in shown(run, original)["events"][-1]["note"]
    assert shown(run, second)["events"][-1]["action"] == "merge"


def test_the_report_counts_a_merged_duplicate_once(desk, run):
    made(run)
    original, second = made(run), made(run)
    assert run("merge", second, "--into", original).exit_code == 0
    report = json.loads(run("report", "weekly", "--week", "2026-W47", "--format", "json").stdout)
    assert report["created"] == 2 and report["duplicates"] == 1


def test_links_made_in_two_clones_both_survive_the_sync(team, run):
    a, b, _ = team
    first, second, third = (on(a, run, *FAULT, "-q").stdout.strip() for _ in range(3))
    converge(a, b, run)
    assert on(a, run, "link", first, second, "--as", "related").exit_code == 0
    assert on(b, run, "link", first, third, "--as", "parent").exit_code == 0
    converge(a, b, run)
    for root in (a, b):
        data = json.loads(on(root, run, "show", first, "--format", "json").stdout)
        assert {link["as"] for link in data["linked"]} == {"related", "children"}
        assert json.loads(on(root, run, "show", third, "--format", "json").stdout)[
            "links"]["parent"] == [data["uid"]]
