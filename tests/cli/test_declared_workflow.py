"""A workflow the desk declares in rules.yaml: its own statuses and actions (a review before
close by a lead, a wait for parts with the clock paused), taken as commands of their own,
held to the roles and statuses they name, and svcdesk's eight actions as the default."""

import json
from pathlib import Path

import yaml

from conftest import FAULT, commit_count, ids
from svcdesk.base.errors import ExitCode

RULES = Path(__file__).parents[2] / "rules.yaml"


def declared(**changes) -> str:
    """The shipped rules.yaml with the review step and the wait for parts declared."""
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    statuses = data["statuses"]
    data["statuses"] = {}
    for key, value in statuses.items():
        if key == "resolved":
            data["statuses"]["reviewing"] = {"label": "待审核", "label_en": "Under review",
                                             "clock": "done"}
            value = {**value, "clock": "done"}
        data["statuses"][key] = value
    data["statuses"]["parts"] = {"label": "待备件", "label_en": "Waiting for parts",
                                 "clock": "paused"}
    moves = data["workflow"]["transitions"]
    moves["resolve"].update(to="reviewing", notices=[])
    moves["audit"] = {"label": "审核通过", "from": ["reviewing"], "to": "resolved",
                      "by": ["lead", "manager"], "notices": ["resolved"]}
    moves["reject"] = {"label": "审核退回", "from": ["reviewing"], "to": "in_progress",
                       "by": ["lead", "manager"], "requires": ["note"]}
    moves["await-parts"] = {"label": "等待备件", "from": ["assigned", "in_progress"],
                            "to": "parts", "requires": ["note"]}
    moves["parts-in"] = {"label": "备件到货", "from": ["parts"], "to": "in_progress"}
    data.update(changes)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def show(run, number):
    return json.loads(run("show", number, "--format", "json").stdout)


def notices(run):
    return [(e["event"], e["to"]) for e in
            json.loads(run("notify", "list", "--format", "json").stdout)]


def test_a_lead_passes_the_review_before_the_customer_hears_it_is_resolved(make_desk, run,
                                                                        monkeypatch):
    make_desk(files={"rules.yaml": declared()})
    monkeypatch.setenv("SVCDESK_AGENT", "liu.yang")
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    assert run("assign", number, "liu.yang").exit_code == 0
    assert run("start", number).exit_code == 0
    done = run("resolve", number, "-m", "更换主板后测试正常")
    assert done.exit_code == 0 and "待审核 (reviewing)" in done.stdout
    refused = run("audit", number)
    assert refused.exit_code == ExitCode.WORKFLOW
    assert refused.stderr.strip() == ("Error: audit is for the roles lead, manager (rules.yaml "
                                      "workflow); liu.yang's role is engineer")
    assert not any(event == "resolved" for event, _ in notices(run))
    closing = run("close", number, "--csat", "5")
    assert closing.exit_code == ExitCode.WORKFLOW and "allowed only from resolved" in \
        closing.stderr
    monkeypatch.setenv("SVCDESK_AGENT", "li.qiang")  # the hardware team's lead
    sent_back = run("reject", number)
    assert sent_back.exit_code == ExitCode.USAGE and "Missing option '-m'" in sent_back.stderr
    passed = run("audit", number)
    assert passed.exit_code == 0, passed.stderr
    assert "已完成待确认 (resolved)" in passed.stdout
    assert ("resolved", "zhang.wei@example.cn") not in notices(run)  # FAULT gives no email
    ticket = show(run, number)
    assert [e["action"] for e in ticket["events"]][-2:] == ["resolve", "audit"]
    assert ticket["clocks"]["resolution"]["state"] == "met"
    assert run("close", number, "--csat", "5").exit_code == 0
    shown = run("show", number)
    assert "审核通过" in shown.stdout


def test_a_declared_action_is_a_command_with_its_own_help_and_through_do(make_desk, run):
    make_desk(files={"rules.yaml": declared()})
    helped = run("await-parts", "--help")
    assert helped.exit_code == 0
    assert "等待备件: 派工中, 处理中 → 待备件 (declared in rules.yaml)" in helped.stdout
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    before = commit_count(Path.cwd())
    waiting = run("do", "await-parts", number, "-m", "主板缺货，已向总仓调货")
    assert waiting.exit_code == 0, waiting.stderr
    assert "待备件 (parts)" in waiting.stdout and commit_count(Path.cwd()) == before + 1
    assert run("parts-in", number).exit_code == 0
    assert show(run, number)["status"] == "in_progress"
    builtin = run("do", "resolve", number)
    assert builtin.exit_code == ExitCode.USAGE and "svcdesk resolve ID" in builtin.stderr
    unknown = run("do", "archive", number)
    assert unknown.exit_code == ExitCode.USAGE
    assert "its own: audit, reject, await-parts, parts-in" in unknown.stderr
    assert run("archive", number).exit_code == ExitCode.USAGE  # no such command


def test_waiting_for_parts_pauses_the_clock_and_a_customer_reply_does_not_resume_it(
        make_desk, run, monkeypatch):
    make_desk(files={"rules.yaml": declared()})
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    assert run("do", "await-parts", number, "-m", "等主板").exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-27T10:00:00+08:00")
    checked = run("sla", "check")
    assert checked.exit_code == 0, checked.stderr
    ticket = show(run, number)
    assert ticket["clocks"]["resolution"]["state"] == "paused"
    assert not any(e["action"] in ("remind", "sla") for e in ticket["events"])


def test_the_time_rules_close_only_where_the_workflow_lets_close(make_desk, run, monkeypatch):
    make_desk(files={"rules.yaml": declared()})
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    assert run("start", number).exit_code == 0
    assert run("resolve", number, "-m", "已修复").exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-12-04T10:00:00+08:00")
    assert run("sla", "check").exit_code == 0
    assert show(run, number)["status"] == "reviewing"  # close is only from resolved
    monkeypatch.setenv("SVCDESK_AGENT", "li.qiang")
    assert run("audit", number).exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-12-10T10:00:00+08:00")
    assert run("sla", "check").exit_code == 0
    assert show(run, number)["status"] == "closed"


def test_a_desk_without_a_workflow_gets_svcdesks_eight_actions(make_desk, run):
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    del data["workflow"]
    make_desk(files={"rules.yaml": yaml.safe_dump(data, allow_unicode=True)})
    checked = run("rules", "check")
    assert checked.exit_code == 0, checked.stderr
    assert "8 transitions" in checked.stdout
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    for step in (("start", number), ("wait", number, "-m", "请提供照片"),
                 ("resume", number), ("resolve", number, "-m", "ok"), ("close", number)):
        assert run(*step).exit_code == 0, step


def test_rules_check_warns_of_an_action_only_a_role_nobody_has_may_take(make_desk, run):
    text = declared()
    data = yaml.safe_load(text)
    for agent in data["agents"].values():
        if agent.get("role") in ("lead", "manager"):
            agent["role"] = "agent"
    make_desk(files={"rules.yaml": yaml.safe_dump(data, allow_unicode=True)})
    checked = run("rules", "check")
    assert "workflow.transitions.audit: only a lead or manager may take it, and no agent " \
           "has that role" in checked.stdout + checked.stderr


def test_an_action_named_like_a_command_is_taken_through_do_and_rules_check_says_so(
        make_desk, run):
    data = yaml.safe_load(declared())
    data["workflow"]["transitions"]["approve"] = {"label": "主管批准", "from": ["reviewing"],
                                                  "to": "resolved", "by": ["manager"]}
    make_desk(files={"rules.yaml": yaml.safe_dump(data, allow_unicode=True)})
    checked = run("rules", "check")
    assert "workflow.transitions.approve: `svcdesk approve` is svcdesk's own command; take " \
           "this action with `svcdesk do approve ID`" in checked.stderr
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    assert run("start", number).exit_code == 0
    assert run("resolve", number, "-m", "已修复").exit_code == 0
    passed = run("--as", "he.wei", "do", "approve", number)
    assert passed.exit_code == 0, passed.stderr
    assert "已完成待确认 (resolved)" in passed.stdout
