"""A ticket's life from the command line: classified, prioritised and assigned on intake,
worked through the transition table, escalated, confirmed and rated, reopened."""

import json

from conftest import FAULT, commit_all, commit_count, git
from svcdesk.base.errors import ExitCode

TICKET = "tickets/2026/11/SD-20261122-0001.yaml"
PRINTER = ("new", "--title", "激光打印机频繁卡纸", "--customer", "刘建国", "--phone",
           "13706751234", "--product", "LP-404 激光打印机", "--purchased", "2026-05-20",
           "--set", "customer.region=绍兴", "--description",
           "财务部的打印机打到第二三张就卡纸，提示纸盒2卡纸，取出纸后重启仍然卡。")


def events(run, ref="1122-1"):
    return json.loads(run("show", ref, "--format", "json").stdout)["events"]


def fields(run, ref="1122-1"):
    return json.loads(run("show", ref, "--format", "json").stdout)


def trailer_actions(root, count):
    log = git(root, "log", f"-{count}", "--format=%(trailers:key=Svcdesk-Action,valueonly)")
    return [line for line in log.split("\n") if line.strip()][::-1]


def test_a_plain_chinese_request_comes_out_classified_prioritised_and_assigned(desk, run):
    before = commit_count(desk.root)
    result = run(*PRINTER, "--explain")
    assert result.exit_code == 0, result.stderr
    assert commit_count(desk.root) == before + 1
    ticket = fields(run)
    assert (ticket["type"], ticket["category"], ticket["team"]) == ("fault", "printer",
                                                                   "hardware")
    assert ticket["assignee"] == "zhou.hao" and ticket["status"] == "assigned"
    assert ticket["priority"] == "P3"
    assert [e["action"] for e in ticket["events"]] == ["create", "classify", "assign"]
    classify_event = ticket["events"][1]
    assert classify_event["rule"] == "打印设备, 故障" and "卡纸" in classify_event["note"]
    assert ticket["events"][2]["rule"].startswith("assign: skill")
    out = result.stdout
    assert "rule 故障: matched (keywords" in out and "region 绍兴: zhou.hao" in out
    assert "chosen: zhou.hao" in out
    subject = git(desk.root, "log", "-1", "--format=%s%n%b")
    assert "Classified: 打印设备, 故障" in subject and "Assigned: zhou.hao" in subject


def test_an_english_request_with_impact_and_urgency_gets_the_matrix_priority(desk, run):
    result = run("new", "--title", "Router reboots every hour", "--description",
                 "The branch router keeps rebooting; the VPN drops each time.",
                 "--customer", "Emily Carter", "--phone", "+852 2345 6789", "--product",
                 "R-160", "--purchased", "2026-01-10", "--impact", "business", "--urgency",
                 "critical")
    assert result.exit_code == 0, result.stderr
    ticket = fields(run)
    assert (ticket["type"], ticket["category"], ticket["priority"]) == ("fault", "network",
                                                                       "P1")


def test_no_auto_records_only_what_was_given(desk, run):
    assert run(*FAULT, "--no-auto").exit_code == 0
    ticket = fields(run)
    assert ticket["status"] == "new" and "assignee" not in ticket
    assert [e["action"] for e in ticket["events"]] == ["create"]


def test_the_whole_lifecycle_runs_from_the_command_line(desk, run):
    run(*PRINTER)
    engineer = fields(run)["assignee"]
    before = commit_count(desk.root)
    steps = [
        ("--as", engineer, "start", "1122-1", "-m", "已电话联系客户"),
        ("--as", engineer, "wait", "1122-1", "-m", "请提供卡纸位置的照片"),
        ("--as", engineer, "resume", "1122-1", "-m", "客户已发来照片"),
        ("--as", engineer, "resolve", "1122-1", "-m", "更换搓纸轮后连续打印 50 页正常"),
        ("close", "1122-1", "--csat", "2", "--feedback", "等得太久"),
        ("reopen", "1122-1", "-m", "客户反馈又开始卡纸"),
        ("--as", engineer, "start", "1122-1"),
        ("--as", engineer, "resolve", "1122-1", "-m", "更换整个进纸组件"),
        ("close", "1122-1", "--csat", "5", "--feedback", "这次彻底解决了"),
    ]
    for step in steps:
        result = run(*step)
        assert result.exit_code == 0, (step, result.stderr)
    assert commit_count(desk.root) == before + len(steps)
    assert trailer_actions(desk.root, len(steps)) == ["start", "wait", "resume", "resolve",
                                                      "close", "reopen", "start", "resolve",
                                                      "close"]
    ticket = fields(run)
    assert ticket["status"] == "closed" and ticket["csat"] == 5
    assert ticket["resolution"] == "更换整个进纸组件" and ticket["feedback"] == "这次彻底解决了"
    reopen = next(e for e in ticket["events"] if e["action"] == "reopen")
    assert reopen["changes"]["csat"] == {"from": 2} and reopen["note"] == "客户反馈又开始卡纸"
    assert git(desk.root, "status", "--porcelain") == ""


def test_illegal_transitions_are_refused_and_change_nothing(desk, run):
    run(*PRINTER)
    path = desk.root / TICKET
    cases = [
        (("close", "1122-1"), ExitCode.WORKFLOW, "close is allowed only from resolved"),
        (("resume", "1122-1"), ExitCode.WORKFLOW, "resume is allowed only from waiting"),
        (("wait", "1122-1"), ExitCode.USAGE, "Missing option '-m'"),
        (("close", "1122-1", "--csat", "6"), ExitCode.USAGE, "1<=x<=5"),
    ]
    run("start", "1122-1")
    run("resolve", "1122-1", "-m", "已处理")
    run("close", "1122-1")
    cases += [(("resolve", "1122-1", "-m", "again"), ExitCode.WORKFLOW,
               "is closed (已关闭); resolve is allowed only from"),
              (("start", "1122-1"), ExitCode.WORKFLOW, "start is allowed only from"),
              (("reopen", "1122-1", "-m", " "), ExitCode.WORKFLOW, "reopen needs a reason")]
    for args, code, message in cases:
        before, data = commit_count(desk.root), path.read_bytes()
        result = run(*args)
        assert result.exit_code == code and message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
        assert commit_count(desk.root) == before and path.read_bytes() == data


def test_escalation_goes_to_the_team_lead_then_the_manager_then_stops(desk, run):
    run(*PRINTER)  # zhou.hao, hardware team: lead li.qiang, desk manager he.wei
    first = run("escalate", "1122-1", "-m", "备件缺货，需要组长协调")
    assert first.exit_code == 0 and fields(run)["assignee"] == "li.qiang"
    assert run("escalate", "1122-1", "-m", "客户要求主管介入").exit_code == 0
    assert fields(run)["assignee"] == "he.wei"
    third = run("escalate", "1122-1", "-m", "again")
    assert third.exit_code == ExitCode.WORKFLOW and "top escalation level" in third.stderr
    assert [e["action"] for e in events(run)].count("escalate") == 2
    assert "escalate to li.qiang" in git(desk.root, "log", "-2", "--format=%s")


def test_hand_assignment_always_works_and_is_recorded(desk, run):
    run(*PRINTER)
    result = run("assign", "1122-1", "liu.yang", "-m", "刘洋在附近")  # not his region
    assert result.exit_code == 0, result.stderr
    last = events(run)[-1]
    assert last["action"] == "assign" and "rule" not in last and last["note"] == "刘洋在附近"
    assert last["changes"]["assignee"] == {"from": "zhou.hao", "to": "liu.yang"}
    assert run("assign", "1122-1", "nobody").exit_code == ExitCode.USAGE
    assert "assign to liu.yang" in git(desk.root, "log", "-1", "--format=%s")


def test_automatic_assignment_explains_and_leaves_the_queue_when_nobody_fits(desk, run):
    text = (desk.root / "rules.yaml").read_text(encoding="utf-8")
    for cap in ("capacity: 12", "capacity: 15"):
        text = text.replace(cap, "capacity: 0")
    (desk.root / "rules.yaml").write_text(text, encoding="utf-8")
    result = run(*PRINTER, "--explain")
    assert result.exit_code == 0, result.stderr
    assert "waits in the hardware queue" in result.stdout and "at capacity (0/0)" in result.stdout
    ticket = fields(run)
    assert ticket["status"] == "new" and ticket["team"] == "hardware"
    assert "assignee" not in ticket


def test_a_priority_override_is_recorded_and_later_classification_keeps_it(desk, run):
    run(*PRINTER)
    assert run("priority", "1122-1", "P1").exit_code == ExitCode.USAGE  # -m is required
    assert run("priority", "1122-1", "p1", "-m", "客户生产线等着用").exit_code == 0
    last = events(run)[-1]
    assert last["action"] == "priority" and last["changes"]["priority"]["to"] == "P1"
    result = run("classify", "1122-1", "--explain")
    assert result.exit_code == 0 and "no change" in result.stdout
    assert "priority P1: given by a person" in result.stdout
    assert fields(run)["priority"] == "P1"


def test_classify_fills_in_what_the_rules_decide_but_not_what_a_person_gave(desk, run):
    run(*FAULT, "--no-auto", "--title", "开机蓝屏，想咨询一下")
    result = run("classify", "1122-1")
    assert result.exit_code == 0 and "reclassified" in result.stdout, result.stderr
    ticket = fields(run)
    assert ticket["type"] == "fault" and ticket["team"] == "hardware"  # type was given
    assert ticket["assignee"] and ticket["status"] == "assigned"
    assert [e["action"] for e in ticket["events"]][-2:] == ["classify", "assign"]


def test_rules_test_shows_what_would_happen_without_recording(desk, run):
    before = commit_count(desk.root)
    result = run("rules", "test", "空调外机冒烟，有焦味", "--set", "customer.tier=vip",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("type", "category", "priority", "team", "assignee", "rules"):
        assert key in data
    assert data["type"] == "fault" and data["priority"] == "P1" and data["team"] == "hardware"
    assert data["rules"][0] == "安全隐患" and data["assignee"] == "zhou.hao"
    assert commit_count(desk.root) == before
    text = run("rules", "test", "--title", "Need a VAT invoice", "for order JD1")
    assert text.exit_code == 0 and "type      invoice" in text.stdout


def test_rules_check_validates_and_warns(desk, run):
    result = run("rules", "check")
    assert result.exit_code == 0 and "valid" in result.stdout and result.stderr == ""
    path = desk.root / "rules.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  closed: {label: 已关闭", "  archived: {label: 归档, open: false}\n"
        "  closed: {label: 已关闭"), encoding="utf-8")
    warned = run("rules", "check")
    assert warned.exit_code == 0 and "statuses.archived: unreachable" in warned.stderr
    assert run("rules", "check", "--strict").exit_code == ExitCode.RULES


def test_a_broken_rules_file_stops_every_command_before_any_ticket_is_touched(desk, run):
    run(*PRINTER)
    path = desk.root / "rules.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "regex: '\\b(?:0x", "regex: '(\\d)\\1|\\b(?:0x"), encoding="utf-8")
    before, data = commit_count(desk.root), (desk.root / TICKET).read_bytes()
    for args in (PRINTER, ("start", "1122-1"), ("rules", "check"), ("classify", "1122-1")):
        result = run(*args)
        assert result.exit_code == ExitCode.RULES, (args, result.stderr)
        assert "rules.yaml:" in result.stderr and "RE2" in result.stderr
    assert commit_count(desk.root) == before and (desk.root / TICKET).read_bytes() == data


def test_agents_shows_open_load_capacity_and_skills(desk, run):
    run(*PRINTER)
    data = json.loads(run("agents", "--format", "json").stdout)
    zhou = next(a for a in data if a["agent"] == "zhou.hao")
    assert zhou["open"] == 1 and zhou["capacity"] == 15 and "printer" in zhou["skills"]
    assert zhou["off_today"] is False
    table = run("agents").stdout
    assert "周浩" in table and "1/15" in table


LAPTOP = {"type": "fault", "title": "电脑无法开机故障报修", "customer.name": "张伟",
          "customer.phone": "13800000000", "product.model": "X1-Pro 笔记本",
          "product.purchased": "2026-03-15", "description": "开机蓝屏，错误代码 0x0000007B"}


def test_a_new_ticket_whose_agent_was_chosen_before_another_landed_is_chosen_again(
        desk, monkeypatch):
    from svcdesk.app import intake
    from svcdesk.app.desk import Desk

    one = intake.create_ticket(Desk(desk.root), dict(LAPTOP))  # li.qiang and liu.yang share
    assert one.choice.agent == "li.qiang"
    first, second = Desk(desk.root), Desk(desk.root)
    change = Desk.change
    raced = []

    def the_other_lands_first(self, *args, **kwargs):
        if self is first and not raced:  # first chose on the loads; second commits now
            raced.append(intake.create_ticket(second, dict(LAPTOP)))
        return change(self, *args, **kwargs)

    monkeypatch.setattr(Desk, "change", the_other_lands_first)
    late = intake.create_ticket(first, dict(LAPTOP))
    assert raced[0].choice.agent == "liu.yang"  # the less loaded, as first saw the desk too
    assert late.choice.agent == "li.qiang"  # chosen again: the loads are even once more
    loads = intake.open_load(Desk(desk.root))
    assert loads["li.qiang"] == 2 and loads["liu.yang"] == 1


def test_a_new_ticket_whose_agent_was_chosen_before_a_hand_commit_is_chosen_again(
        desk, monkeypatch):
    from svcdesk.app import intake
    from svcdesk.app.desk import Desk

    one = intake.create_ticket(Desk(desk.root), dict(LAPTOP))  # li.qiang and liu.yang share
    assert one.choice.agent == "li.qiang"
    first = Desk(desk.root)
    change = Desk.change
    handed = []

    def a_hand_commit_lands_first(self, *args, **kwargs):
        if not handed:  # first chose liu.yang (li.qiang had one); now the ticket moves by hand
            path = desk.root / "tickets/2026/11/SD-20261122-0001.yaml"
            path.write_text(path.read_text(encoding="utf-8").replace(
                "assignee: li.qiang", "assignee: liu.yang"), encoding="utf-8")
            commit_all(desk.root, "given to liu.yang by hand")
            handed.append(1)
        return change(self, *args, **kwargs)

    monkeypatch.setattr(Desk, "change", a_hand_commit_lands_first)
    late = intake.create_ticket(first, dict(LAPTOP))
    assert handed
    assert late.choice.agent == "li.qiang"  # chosen again on the loads after the commit


def test_a_rule_on_a_derived_field_matches_at_intake_in_rules_test_and_later(desk, run):
    """The warranty follows from the purchase date: the rules see it at intake too."""
    path = desk.root / "rules.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("classify:\n", (
        "classify:\n"
        "  - name: 保外\n"
        "    when: {fields: {product.warranty: out}}\n"
        "    set: {tags: [保外收费]}\n"
        "    continue: 安全隐患\n"), 1), encoding="utf-8")
    commit_all(desk.root, "a rule on the warranty")
    old = ("--purchased", "2020-01-10")
    tested = run("rules", "test", "打印机卡纸", "--set", "product.purchased=2020-01-10",
                 "--format", "json")
    assert tested.exit_code == 0 and "保外" in json.loads(tested.stdout)["rules"]
    made = run(*FAULT[:-2], *old, "--description", "打印机卡纸", "-q")
    assert made.exit_code == 0, made.stderr
    ticket = json.loads(run("show", made.stdout.strip(), "--format", "json").stdout)
    assert ticket["product"]["warranty"] == "out" and "保外收费" in ticket["tags"]
    again = run("classify", made.stdout.strip())
    assert again.exit_code == 0 and "no change" in again.stdout  # nothing left to do
