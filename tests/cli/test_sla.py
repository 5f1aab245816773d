"""Service levels at work: due times on tickets, clocks that pause while waiting on the
customer, `show` and `sla explain`, and `sla check` taking each step once."""

import json
from datetime import datetime

import pytest
import yaml

from conftest import FAULT, commit_count, git, svcdesk_process
from svcdesk.base.errors import ExitCode

FRIDAY_1730 = "2026-11-20T17:30:00+08:00"
# impact single x urgency high: P2 (紧急), whose first response is due in 2 working hours
URGENT = FAULT + ("--impact", "single", "--urgency", "high")
ID = "20261120-1"


def at(monkeypatch, when):
    monkeypatch.setenv("SVCDESK_NOW", when)


def level(run, ref=ID):
    result = run("show", ref, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["clocks"]


def stored(root, ref="SD-20261120-0001"):
    """The ticket file's data, times as the ISO 8601 text the file holds."""
    folder = f"{ref[3:7]}/{ref[7:9]}"
    data = yaml.safe_load((root / f"tickets/{folder}/{ref}.yaml").read_text())
    return _text_times(data)


def _text_times(node):
    if isinstance(node, dict):
        return {k: _text_times(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_text_times(v) for v in node]
    return node.isoformat() if isinstance(node, datetime) else node


def new_friday(run, monkeypatch, *extra):
    at(monkeypatch, FRIDAY_1730)
    result = run(*URGENT, *extra)
    assert result.exit_code == 0, result.stderr
    return result


def test_a_friday_1730_request_with_a_two_hour_target_is_due_monday_1030(desk, run,
                                                                         monkeypatch):
    new_friday(run, monkeypatch)
    kept = stored(desk.root)["sla"]
    assert kept["policy"] == "紧急" and kept["response_minutes"] == 120
    assert kept["response_due"] == "2026-11-23T10:30:00+08:00"
    assert kept["resolution_due"] == "2026-11-24T17:30:00+08:00"  # 2 working days
    at(monkeypatch, "2026-11-23T10:00:00+08:00")
    now = level(run)
    assert now["at"] == "2026-11-23T10:00:00+08:00" and now["policy"] == "紧急"
    assert now["response"] == {"target_minutes": 120, "promised_minutes": 120,
                               "due": "2026-11-23T10:30:00+08:00", "state": "running",
                               "elapsed_minutes": 90.0, "remaining_minutes": 30.0,
                               "used_pct": 75.0, "met_at": None}
    at(monkeypatch, "2026-11-23T11:00:00+08:00")
    assert level(run)["response"]["state"] == "breached"
    shown = run("show", ID).stdout
    assert "服务时限 · 紧急" in shown and "首次响应  截止 2026-11-23 10:30" in shown
    assert "超时 30分 工作时间 · 已超时" in shown


def test_a_request_the_day_before_national_day_is_due_after_it(desk, run, monkeypatch):
    at(monkeypatch, "2026-09-30T17:00:00+08:00")
    assert run(*FAULT).exit_code == 0  # P3: respond in 4 working hours, resolve in 3 days
    data = stored(desk.root, "SD-20260930-0001")
    assert data["sla"]["response_due"] == "2026-10-08T12:00:00+08:00"
    # 1 h on 30 Sep, 8 and 9 Oct, and 7 h of the make-up Saturday 10 Oct
    assert data["sla"]["resolution_due"] == "2026-10-10T17:00:00+08:00"


def test_waiting_on_the_customer_stops_the_resolution_clock(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    at(monkeypatch, "2026-11-23T09:30:00+08:00")
    assert run("--as", "li.qiang", "start", ID).exit_code == 0
    assert run("--as", "li.qiang", "wait", ID, "-m", "请提供故障照片").exit_code == 0
    kept = stored(desk.root)["sla"]
    assert kept["response_state"] == "met"  # asking the customer is the first response
    assert "resolution_due" not in kept  # paused: no due time
    at(monkeypatch, "2026-11-24T09:30:00+08:00")
    paused = level(run)["resolution"]
    assert paused["state"] == "paused" and paused["due"] is None
    assert paused["elapsed_minutes"] == 60.0  # Fri 17:30-18:00 and Mon 09:00-09:30
    assert run("--as", "li.qiang", "resume", ID).exit_code == 0
    # 900 minutes left from Tue 09:30: Tue (450), Wed (450) -> Wed 17:30
    assert stored(desk.root)["sla"]["resolution_due"] == "2026-11-25T17:30:00+08:00"
    explained = run("sla", "explain", ID)
    assert explained.exit_code == 0
    assert "待客户反馈  已暂停" in explained.stdout
    assert "派工中  计时  +1小时 = 1小时" in explained.stdout


def test_an_internal_note_is_not_a_response_but_a_public_comment_is(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    at(monkeypatch, "2026-11-23T09:10:00+08:00")
    run("comment", ID, "-m", "查一下库存", "--internal")
    assert level(run)["response"]["state"] == "running"
    run("comment", ID, "-m", "您好，工程师已接单，今天内联系您")
    response = level(run)["response"]
    assert response["state"] == "met" and response["met_at"] == "2026-11-23T09:10:00+08:00"


def test_resolving_late_is_breached_and_reopening_runs_the_clock_again(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    at(monkeypatch, "2026-11-26T10:00:00+08:00")
    run("--as", "li.qiang", "resolve", ID, "-m", "更换主板")
    assert stored(desk.root)["sla"]["resolution_state"] == "breached"
    assert level(run)["resolution"]["met_at"] == "2026-11-26T10:00:00+08:00"
    at(monkeypatch, "2026-11-26T10:30:00+08:00")
    run("close", ID, "--csat", "4")
    assert level(run)["resolution"]["met_at"] == "2026-11-26T10:00:00+08:00"  # not the close
    at(monkeypatch, "2026-11-26T11:00:00+08:00")
    assert run("reopen", ID, "-m", "又坏了").exit_code == 0
    assert level(run)["resolution"]["state"] == "breached"
    assert level(run)["resolution"]["met_at"] is None


def test_a_priority_raise_shortens_what_is_left_from_then_on_not_the_past(desk, run,
                                                                          monkeypatch):
    new_friday(run, monkeypatch)  # P2: respond in 120 working minutes, resolve in 960
    at(monkeypatch, "2026-11-23T09:30:00+08:00")  # 60 of 120 used: half of it is left
    assert run("priority", ID, "P1", "-m", "客户停产").exit_code == 0
    data = stored(desk.root)
    assert data["sla"]["policy"] == "特急" and data["sla"]["response_minutes"] == 30
    # half of P1's 30 minutes from the raise on, not 30 minutes from Friday 17:30
    assert data["sla"]["response_due"] == "2026-11-23T09:45:00+08:00"
    # 900 of 960 left: 15/16 of P1's 480 minutes, 450 from 09:30
    assert data["sla"]["resolution_due"] == "2026-11-23T18:00:00+08:00"
    last = data["events"][-1]
    assert last["action"] == "priority" and "sla.policy" in last["changes"]
    at(monkeypatch, "2026-11-23T09:40:00+08:00")  # 5 of P1's 30 minutes left
    assert level(run)["response"]["used_pct"] == round(100 * (1 - 5 / 30), 1)


def test_a_raise_after_a_breach_keeps_the_due_time_it_missed(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    at(monkeypatch, "2026-11-23T11:30:00+08:00")  # response due at 10:30: an hour over
    assert run("priority", ID, "P1", "-m", "客户投诉").exit_code == 0
    kept = stored(desk.root)["sla"]
    assert kept["response_due"] == "2026-11-23T10:30:00+08:00"
    assert kept["response_minutes"] == 30 and kept["response_promised_minutes"] == 120
    clock = level(run)["response"]
    assert clock["state"] == "breached" and clock["remaining_minutes"] == -60.0
    assert clock["used_pct"] == 150.0  # an hour over a two-hour promise, not 300%


def test_a_vip_p1_ticket_runs_on_the_24x7_calendar(desk, run, monkeypatch):
    at(monkeypatch, "2026-11-21T22:00:00+08:00")  # a Saturday night
    assert run(*FAULT, "--priority", "P1", "--set", "customer.tier=vip").exit_code == 0
    data = stored(desk.root, "SD-20261121-0001")
    assert data["sla"]["calendar"] == "7x24"
    assert data["sla"]["response_due"] == "2026-11-21T22:30:00+08:00"


def test_sla_check_warns_breaches_and_climbs_the_ladder_once_each(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    at(monkeypatch, "2026-11-23T10:10:00+08:00")  # 100 of 120 minutes: over 80%
    before = commit_count(desk.root)
    first = run("sla", "check")
    assert first.exit_code == 0, first.stderr
    assert "warn: response" in first.stdout
    assert commit_count(desk.root) == before + 1
    again = run("sla", "check")
    assert again.exit_code == 0 and again.stdout == "" and again.stderr == ""
    assert commit_count(desk.root) == before + 1
    at(monkeypatch, "2026-11-23T10:40:00+08:00")
    dry = run("sla", "check", "--dry-run")
    assert "breach: response" in dry.stdout and commit_count(desk.root) == before + 1
    breach = run("sla", "check")
    assert "breach: response" in breach.stdout
    assert "escalation: 响应超时-通知组长" in breach.stdout
    assert commit_count(desk.root) == before + 2
    subject = git(desk.root, "log", "-1", "--format=%s%n%an%n%(trailers:key=Svcdesk-Action,"
                                          "valueonly)")
    assert subject.split("\n")[:3] == ["sla check: 2 step(s) on 1 ticket(s)", "svcdesk",
                                      "sla-check"]
    data = stored(desk.root)
    rules = [e.get("rule") for e in data["events"] if e["by"] == "svcdesk"]
    assert rules == ["warn: response", "breach: response", "escalation: 响应超时-通知组长"]
    assert data["sla"]["response_state"] == "breached"
    assert run("sla", "check").stdout == ""


def test_the_resolution_ladder_raises_the_priority_then_hands_it_to_the_lead(desk, run,
                                                                           monkeypatch):
    new_friday(run, monkeypatch)
    at(monkeypatch, "2026-11-23T09:05:00+08:00")
    run("assign", ID, "zhou.hao")
    run("comment", ID, "-m", "已收到，安排工程师")  # the response, in time
    at(monkeypatch, "2026-11-24T17:40:00+08:00")  # 960 min target: 100% on Tue 17:30
    out = run("sla", "check").stdout
    assert "escalation: 解决超时-提级: priority P2 → P1" in out
    data = stored(desk.root)
    assert data["priority"] == "P1" and data["sla"]["policy"] == "特急"
    assert data["sla"]["response_state"] == "met"  # judged by the policy of its time
    assert data["sla"]["response_minutes"] == 120
    assert data["sla"]["resolution_due"] == "2026-11-24T17:30:00+08:00"  # not moved back
    assert data["sla"]["resolution_promised_minutes"] == 960
    # the later steps count against the 960 minutes that were missed, each at its own time
    assert "转组长" not in out and "通知主管" not in out
    at(monkeypatch, "2026-11-25T17:20:00+08:00")  # 1430 of 960: 149%
    assert "escalation" not in run("sla", "check").stdout
    at(monkeypatch, "2026-11-25T17:40:00+08:00")  # 150% on Wed 17:30
    out = run("sla", "check").stdout
    assert "escalation: 解决超时-转组长: reassigned to li.qiang" in out
    assert "通知主管" not in out
    data = stored(desk.root)
    assert data["assignee"] == "li.qiang"
    handed = [e for e in data["events"] if e.get("rule") == "escalation: 解决超时-转组长"]
    assert handed[0]["action"] == "escalate"
    assert handed[0]["note"].startswith("resolution target 960 working minutes, due "
                                        "2026-11-24 17:30, 151% used")
    at(monkeypatch, "2026-11-26T17:40:00+08:00")  # 200% on Thu 17:30: the manager hears
    assert "escalation: 解决严重超时-通知主管: notify manager" in run("sla", "check").stdout
    steps = [e["rule"] for e in stored(desk.root)["events"]
             if (e.get("rule") or "").startswith("escalation")]
    assert steps == ["escalation: 解决超时-提级", "escalation: 解决超时-转组长",
                     "escalation: 解决严重超时-通知主管"]
    assert "escalation" not in run("sla", "check").stdout


def test_resolved_tickets_close_after_three_quiet_working_days(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    at(monkeypatch, "2026-11-23T10:00:00+08:00")
    run("--as", "li.qiang", "resolve", ID, "-m", "已更换硬盘")
    at(monkeypatch, "2026-11-25T18:00:00+08:00")  # 2.8 working days
    assert "automation" not in run("sla", "check").stdout
    at(monkeypatch, "2026-11-26T10:00:00+08:00")
    assert "automation: close_resolved_after: closed" in run("sla", "check").stdout
    data = stored(desk.root)
    assert data["status"] == "closed" and data["events"][-1]["by"] == "svcdesk"


def test_a_customer_we_wait_on_is_reminded_every_two_working_days(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    at(monkeypatch, "2026-11-23T09:00:00+08:00")
    run("--as", "li.qiang", "wait", ID, "-m", "请寄回设备")
    at(monkeypatch, "2026-11-25T09:00:00+08:00")
    assert "remind: 2026-11-23T09:00 #1" in run("sla", "check").stdout
    assert run("sla", "check").stdout == ""
    at(monkeypatch, "2026-11-27T09:30:00+08:00")
    assert "#2" in run("sla", "check").stdout


def test_a_changed_policy_is_applied_to_open_tickets_by_sla_check(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    rules = (desk.root / "rules.yaml").read_text()
    (desk.root / "rules.yaml").write_text(rules.replace(
        "    - name: 紧急\n      priority: P2\n      response: 2h",
        "    - name: 紧急\n      priority: P2\n      response: 1h"))
    git(desk.root, "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qam", "1h")
    at(monkeypatch, "2026-11-23T09:00:00+08:00")
    assert "policy: 紧急" in run("sla", "check").stdout
    assert stored(desk.root)["sla"]["response_due"] == "2026-11-23T09:30:00+08:00"


def test_two_sla_checks_at_once_take_each_step_once(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    env = {"SVCDESK_NOW": "2026-11-23T10:40:00+08:00"}
    procs = [svcdesk_process("sla", "check", cwd=desk.root, env=env) for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    data = stored(desk.root)
    rules = [e.get("rule") for e in data["events"] if e["by"] == "svcdesk"]
    assert sorted(rules) == sorted(["breach: response", "escalation: 响应超时-通知组长"])
    assert git(desk.root, "status", "--porcelain") == ""


def test_a_hand_edited_ticket_is_left_alone_and_said_so(desk, run, monkeypatch):
    new_friday(run, monkeypatch)
    path = desk.root / "tickets/2026/11/SD-20261120-0001.yaml"
    path.write_text(path.read_text().replace("张伟", "张伟伟"))
    at(monkeypatch, "2026-11-23T10:40:00+08:00")
    result = run("sla", "check")
    assert result.exit_code == ExitCode.CONFLICT
    assert "left as it is" in result.stderr and "not committed" in result.stderr


BAD_RULES = [
    ("    hours:\n      mon-fri: [\"09:00-12:00\", \"13:00-18:00\"]\n    holidays",
     "    hours:\n      mon-fri: [\"09:00-12:00\", \"13:00-8:00\"]\n    holidays",
     "calendars.standard.hours"),
    ("  calendar: standard\n  warn_at", "  calendar: weekly\n  warn_at", "sla.calendar"),
    ("      response: 30m\n      resolution: 1d", "      response: soon\n      resolution: 1d",
     "sla.policies.1.response"),
    ("    notify: [manager]", "    notify: [boss]", "escalation.3.notify.0"),
    ("  close_resolved_after: 3d", "  close_resolved_after: three days",
     "automation.close_resolved_after"),
]


def test_bad_service_rules_are_refused_naming_file_line_and_key(desk, run):
    original = (desk.root / "rules.yaml").read_text()
    for old, new, key in BAD_RULES:
        assert old in original, old
        (desk.root / "rules.yaml").write_text(original.replace(old, new, 1))
        result = run("sla", "check")
        assert result.exit_code == ExitCode.RULES, (key, result.stderr)
        assert "rules.yaml:" in result.stderr and key in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [("new", "--type", "fault", "--title", "打印机卡纸",
                                      "--customer", "张伟", "--phone", "13800000000",
                                      "--product", "LP-404", "--purchased", "2026-05-20",
                                      "--description", "卡纸", "-q"),
                                     ("rules", "check")])
def test_a_due_time_in_a_year_without_holiday_data_is_warned_where_it_is_made(
        desk, run, monkeypatch, command):
    """chinesecalendar 1.11 ends with 2026: a ticket made on New Year's Eve is due in
    2027, counted on plain weekdays, and the command that counted says so."""
    monkeypatch.setenv("SVCDESK_NOW", "2026-12-31T16:00:00+08:00")
    result = run(*command)
    assert result.exit_code == 0, result.stderr
    assert "no official holiday data for 2027" in result.stderr
    assert "calendars.standard in rules.yaml" in result.stderr


def test_a_dry_run_shows_every_step_the_run_then_takes(desk, run, monkeypatch):
    """A step can make the next one due (a raised priority shortens the target): the dry
    run follows each ticket as the run does, instead of listing only what is due first."""
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    for _ in range(3):
        assert run(*URGENT).exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-12-08T10:00:00+08:00")  # long past every target

    def steps(*args):
        result = run("sla", "check", "--format", "json", *args)
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        return [(s["ticket"], s["rule"]) for s in data["steps"]], data["commit"]

    before = commit_count(desk.root)
    planned, none = steps("--dry-run")
    assert none is None and commit_count(desk.root) == before
    assert len(planned) > 3 * 2  # more than each ticket's first due step
    taken, sha = steps()
    assert sha and taken == planned


def test_ctrl_c_while_the_notices_are_queued_makes_no_change_and_loses_no_notice(
        desk, run, monkeypatch):
    """Ctrl-C late in `sla check` once printed "Aborted." while the commit stood, and the
    notices it had not queued yet were lost for good (the steps are recorded, so no later
    run queues them). Notices are now queued before the commit: cut short there, the
    change is not made, the next run takes every step again, and the notices queued for
    steps that never landed are dropped, not sent."""
    import os
    import signal

    from svcdesk.app import delivery

    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    for _ in range(3):
        assert run(*URGENT, "--email", "zhang.wei@example.cn").exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-12-08T10:00:00+08:00")
    planned = json.loads(run("sla", "check", "--dry-run", "--format", "json").stdout)["steps"]
    queue, calls = delivery.queue_notices, []

    def interrupted_while_queuing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, before the commit
        return queue(*args, **kwargs)

    monkeypatch.setattr(delivery, "queue_notices", interrupted_while_queuing)
    before = commit_count(desk.root)
    result = run("sla", "check")
    assert result.exit_code == 130 and "Aborted." in result.stderr
    assert commit_count(desk.root) == before and git(desk.root, "status", "--porcelain") == ""
    monkeypatch.setattr(delivery, "queue_notices", queue)
    again = json.loads(run("sla", "check", "--format", "json").stdout)["steps"]
    assert len(again) == len(planned)  # every step taken, once
    assert run("notify", "send").exit_code == 0  # drops the notices of the cut-short run
    events = {e["id"]: e["at"] for p in desk.root.glob("tickets/*/*/*.yaml")
              for e in yaml.safe_load(p.read_text(encoding="utf-8"))["events"]}
    queued = [json.loads(p.read_text(encoding="utf-8"))["event_id"]
              for p in desk.state.outbox.glob("*.json")]
    assert all(e in events for e in queued)  # none of a step that never landed
    assert any(str(events[e]).startswith("2026-12-08") for e in queued)  # the steps' own
    assert run("sla", "check").stdout == ""  # nothing left to do, nothing lost
