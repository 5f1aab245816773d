"""The use cases through the library, without the command line, on real git repositories:
what a program embedding svcdesk gets (app/ is the API; cli/ only parses and prints)."""

import inspect

import pytest

from conftest import commit_count, git
from svcdesk.adapters.shortcuts import Shortcuts
from svcdesk.app import admin, clocks, delivery, intake, lookup, work
from svcdesk.app.desk import Desk
from svcdesk.base.errors import WorkflowError
from svcdesk.base.identity import parse_ref
from svcdesk.base.query import Filter

REQUEST = {"type": "fault", "title": "激光打印机频繁卡纸", "customer.name": "刘建国",
           "customer.phone": "13706751234",
           "customer.email": "liu.jianguo@example.cn", "product.model": "LP-404 激光打印机",
           "product.purchased": "2026-05-20", "description": "打印到第二三张就卡纸"}
ID = parse_ref("SD-20261122-0001")


def test_a_request_becomes_one_commit_classified_assigned_and_acknowledged(desk):
    before = commit_count(desk.root)
    outcome = intake.create_ticket(desk, dict(REQUEST))
    ticket = outcome.ticket
    assert ticket.number == "SD-20261122-0001" and ticket.fields["assignee"]
    assert [e.action for e in ticket.events] == ["create", "classify", "assign"]
    assert outcome.decision.fired and outcome.choice.agent == ticket.fields["assignee"]
    assert commit_count(desk.root) == before + 1
    assert git(desk.root, "log", "-1", "--format=%s").startswith("SD-20261122-0001: new fault")
    queued = delivery.queued(desk)
    assert {e.meta["event"] for e in queued} >= {"created", "assigned"}


def test_working_a_ticket_is_one_commit_per_step_and_the_workflow_decides(desk):
    intake.create_ticket(desk, dict(REQUEST))
    work.move(desk, ID, "start", "已电话联系客户")
    work.comment(desk, ID, "已远程排查，确认搓纸轮磨损")
    escalated = work.escalate(desk, ID, "备件缺货")
    assert escalated.events[-1].action == "escalate"
    with pytest.raises(WorkflowError, match="close is allowed only from"):
        work.move(desk, ID, "close")
    resolved = work.move(desk, ID, "resolve", updates={"resolution": "更换搓纸轮"})
    assert resolved.fields["status"] == "resolved"
    subjects = git(desk.root, "log", "-4", "--format=%s").splitlines()
    assert subjects[0].startswith("SD-20261122-0001: resolve: 更换搓纸轮")
    assert subjects[2] == "SD-20261122-0001: comment: 已远程排查，确认搓纸轮磨损"
    assert [e.subject for e in admin.log(desk, ID)][:4] == subjects


def test_lookups_and_the_clocks_read_the_index(desk, monkeypatch):
    intake.create_ticket(desk, dict(REQUEST))
    found = lookup.listing(desk, Filter())
    assert [t["id"] for t in found.tickets] == ["SD-20261122-0001"] and found.problems == []
    assert [h.fields["id"] for h in lookup.search(desk, "卡纸", Filter()).tickets] == \
        ["SD-20261122-0001"]
    assert clocks.service_level(desk, desk.load(ID)).clocks["response"].state == "running"
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-25T10:00:00+08:00")
    planned = clocks.sla_check(desk, dry_run=True)
    assert planned.taken and planned.commit is None
    run = clocks.sla_check(Desk(desk.root))
    assert [t.due.key for t in run.taken] == [t.due.key for t in planned.taken]
    assert git(desk.root, "log", "-1", "--format=%an").strip() == "svcdesk"


def test_the_plain_path_gives_the_same_tickets_and_leaves_no_cache(desk, monkeypatch):
    monkeypatch.setenv("SVCDESK_SPEED", "0")
    plain = Desk(desk.root)
    assert type(plain.shortcuts) is Shortcuts
    for name in ("steps.json", "head-trees.json", "rules.pickle", "trail.sqlite"):
        (plain.state.folder / name).unlink(missing_ok=True)
    intake.create_ticket(plain, dict(REQUEST))
    work.comment(plain, ID, "已上门")
    assert [e.subject for e in admin.log(plain, ID)] == \
        git(desk.root, "log", "--format=%s", "--", "tickets/2026").splitlines()
    left = {p.name for p in plain.state.folder.iterdir()}
    assert not left & {"steps.json", "head-trees.json", "rules.pickle", "trail.sqlite"}
    assert admin.index_status(plain)["trail_commits"] is None
    monkeypatch.setenv("SVCDESK_SPEED", "1")
    fast = Desk(desk.root)
    assert type(fast.shortcuts) is not Shortcuts
    assert lookup.listing(fast, Filter()).tickets == lookup.listing(plain, Filter()).tickets


def test_index_status_weighs_the_index_against_the_ticket_files_it_describes(make_desk):
    desk = make_desk(sample=True)
    said = admin.index_status(desk)
    files = sum(p.stat().st_size for p in desk.root.glob("tickets/*/*/*.yaml"))
    assert said["ticket_files_bytes"] == files
    assert said["file_bytes_per_ticket"] == round(files / said["tickets"])
    assert said["bytes_per_ticket"] == round(said["size_bytes"] / said["tickets"])
    assert said["size_of_data"] == round(said["size_bytes"] / files, 2)


def test_the_desk_stays_a_small_facade():
    """Opening the desk, who acts, finding a ticket: features go to their own module."""
    public = [name for name, _ in inspect.getmembers(Desk) if not name.startswith("_")]
    assert sorted(public) == ["act_as", "actor", "change", "index", "load", "locate", "now",
                              "read_file", "records"]
