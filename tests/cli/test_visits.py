"""On-site visits (上门服务): booked for a window and told to the customer, the engineer's
departure, arrival and leaving recorded in order, the week's calendar per engineer, the
report's travel and on-site time, the travel fee in the quote, and the on-site flow as the
desk's declared workflow."""

import json
from pathlib import Path

import yaml

from conftest import ids
from svcdesk.base.errors import ExitCode

RULES = Path(__file__).parents[2] / "rules.yaml"
MONDAY = "2026-11-23"
AIRCON = ("new", "--type", "fault", "--title", "空调不制冷", "--customer", "王五", "--phone",
          "13800000001", "--email", "wang.wu@example.cn", "--product", "KF-35 变频空调",
          "--purchased", "2020-05-01", "--set", "customer.address=杭州市西湖区文三路1号",
          "--description", "外机运转但不出冷风")


def at(monkeypatch, moment):
    monkeypatch.setenv("SVCDESK_NOW", moment)


def show(run, number):
    return json.loads(run("show", number, "--format", "json").stdout)


def outbox(run):
    return [(e["event"], e["to"]) for e in
            json.loads(run("notify", "list", "--format", "json").stdout)]


def test_a_visit_is_booked_made_and_timed_with_the_customer_told(desk, run, monkeypatch):
    assert run(*AIRCON).exit_code == 0
    number = ids(run)[0]
    engineer = show(run, number)["assignee"]
    booked = run("visit", number, "--at", f"{MONDAY} 14:00", "--until", "16:00",
                 "-m", "请提前备好购机发票")
    assert booked.exit_code == 0, booked.stderr
    assert "上门 11-23 14:00–16:00" in booked.stdout
    assert ("visit_booked", "wang.wu@example.cn") in outbox(run)
    preview = run("notify", "preview", number, "visit_booked")
    assert "2026-11-23 14:00 至 16:00" in preview.stdout and "请提前备好购机发票" in preview.stdout
    early = run("arrive", number)
    assert early.exit_code == ExitCode.WORKFLOW
    assert "has not set off yet (`svcdesk depart`)" in early.stderr
    at(monkeypatch, f"{MONDAY}T13:20:00+08:00")
    assert run("depart", number).exit_code == 0
    assert ("departed", "wang.wu@example.cn") in outbox(run)
    at(monkeypatch, f"{MONDAY}T13:50:00+08:00")
    assert run("arrive", number).exit_code == 0
    at(monkeypatch, f"{MONDAY}T15:10:00+08:00")
    left = run("leave", number, "-m", "更换启动电容后制冷正常")
    assert left.exit_code == 0 and "离开 15:10" in left.stdout
    again = run("leave", number)
    assert again.exit_code == ExitCode.WORKFLOW and "already left" in again.stderr
    visit = show(run, number)["visit"]
    assert visit["engineer"] == engineer and visit["left"].startswith(f"{MONDAY}T15:10")
    calendar = json.loads(run("visits", "--week", "2026-11-25", "--format", "json").stdout)
    assert calendar["week"] == MONDAY
    assert [(v["engineer"], v["day"], v["from"], v["until"], v["ticket"], v["state"])
            for v in calendar["visits"]] == [(engineer, MONDAY, "14:00", "16:00", number,
                                              "done")]
    table = run("visits", "--week", MONDAY)
    assert "11-23 周一" in table.stdout and "杭州市西湖区" in table.stdout
    assert run("visits", "--week", "2026-11-30").stdout.startswith("No visits booked")
    report = json.loads(run("report", "weekly", "--week", "2026-W48", "--format",
                            "json").stdout)
    assert report["visits"] == [{"engineer": engineer, "name": report["visits"][0]["name"],
                                 "visits": 1, "travel_minutes": 30.0,
                                 "mean_travel_minutes": 30.0, "on_site_minutes": 80.0,
                                 "mean_on_site_minutes": 80.0}]
    markdown = run("report", "weekly", "--week", "2026-W48").stdout
    assert "## 上门服务" in markdown and "| 1 | 30分 |" in markdown


def test_a_booking_that_does_not_fit_is_refused_and_changes_nothing(desk, run):
    assert run(*AIRCON).exit_code == 0
    number = ids(run)[0]
    before = show(run, number)["events"]
    for args, said in ((("--at", f"{MONDAY} 14:00", "--until", "13:00"), "ends (13:00) before"),
                       (("--at", "下午两点"), "is not a time"),
                       (("--at", "2026-11-01 09:00"), "is past"),
                       (("--at", f"{MONDAY} 09:00", "--engineer", "nobody"), "unknown agent")):
        refused = run("visit", number, *args)
        assert refused.exit_code != 0 and said in refused.stderr, (args, refused.stderr)
    assert show(run, number)["events"] == before


def test_a_visit_out_of_warranty_puts_the_travel_fee_in_the_quote(desk, run):
    assert run(*AIRCON).exit_code == 0
    number = ids(run)[0]
    assert run("visit", number, "--at", f"{MONDAY} 14:00").exit_code == 0
    quoted = run("quote", number)
    assert quoted.exit_code == 0, quoted.stderr
    fee = show(run, number)["fee"]
    assert (fee["labour"], fee["travel"], fee["quote"]) == ("150.00", "100.00", "250.00")


def test_the_on_site_flow_declared_in_rules_moves_the_status_and_queues_its_notices(
        make_desk, run, monkeypatch):
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    data["statuses"].update({
        "dispatched": {"label": "已派工待上门"}, "on_the_way": {"label": "工程师出发"},
        "on_site": {"label": "到达现场"}})
    data["workflow"]["transitions"].update({
        "visit": {"from": ["assigned", "in_progress"], "to": "dispatched",
                  "notices": ["visit_booked"]},
        "depart": {"from": ["dispatched"], "to": "on_the_way", "notices": ["departed"]},
        "arrive": {"from": ["on_the_way"], "to": "on_site", "notices": []},
        "leave": {"from": ["on_site"], "to": "in_progress", "notices": []}})
    data["workflow"]["transitions"]["resolve"]["from"].append("on_site")
    make_desk(files={"rules.yaml": yaml.safe_dump(data, allow_unicode=True)})
    assert run(*AIRCON).exit_code == 0
    number = ids(run)[0]
    assert run("visit", number, "--at", f"{MONDAY} 14:00").exit_code == 0
    assert show(run, number)["status"] == "dispatched"
    refused = run("arrive", number)
    assert refused.exit_code == ExitCode.WORKFLOW
    at(monkeypatch, f"{MONDAY}T13:30:00+08:00")
    assert run("depart", number).exit_code == 0
    assert show(run, number)["status"] == "on_the_way"
    at(monkeypatch, f"{MONDAY}T14:05:00+08:00")
    assert run("arrive", number).exit_code == 0
    assert show(run, number)["status"] == "on_site"
    events = [event for event, _ in outbox(run)]
    assert events.count("visit_booked") == 1 and events.count("departed") == 1
    assert "arrived" not in events  # the declaration queues none for arrive
    assert run("quote", number).exit_code == 0 and run("approve", number).exit_code == 0
    assert run("resolve", number, "-m", "更换启动电容").exit_code == 0
