"""Notices by 钉钉, 企业微信 and 飞书 group robots, SMS (Aliyun and any HTTP gateway) and a
webhook, through the outbox, against real HTTP servers on 127.0.0.1 that check each
platform's signature the way the platform does (tests/robots.py)."""

import json
from pathlib import Path

import pytest
import yaml

from conftest import FAULT, ids
from robots import BLOCKED, DING_SECRET, WEBHOOK_SECRET, Robots

pytestmark = pytest.mark.slow  # each test starts its HTTP servers

RULES = Path(__file__).parents[2] / "rules.yaml"
CUSTOMER = "13800000000"


def rules_text(channels: dict, events: dict, workflow=None) -> str:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    data["notices"]["channels"] = channels
    data["notices"]["events"] = events
    if workflow:
        data["workflow"]["transitions"].update(workflow)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


DING = {"kind": "dingtalk", "url_env": "DING_URL", "secret_env": "DING_SECRET"}
SMS = {"kind": "sms", "gateway": "aliyun", "url_env": "ALIYUN_URL", "key_id_env": "ALIYUN_ID",
       "secret_env": "ALIYUN_SECRET", "sign_name": "示例售后", "template_code": "SMS_1234"}
STEPS = {name: [{"template": template, "to": ["customer"], "via": ["sms"]},
                {"template": "team", "to": ["group"]}]
         for name, template in (("created", "ack"), ("status_changed", "status"),
                                ("resolved", "resolved"), ("closed", "closed"))}


@pytest.fixture
def robots(monkeypatch):
    server = Robots()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SVCDESK_HTTP_TIMEOUT", "1")
    yield server
    server.close()


def desk_with(make_desk, channels, events, workflow=None):
    return make_desk(files={"rules.yaml": rules_text(channels, events, workflow)})


def test_the_customer_hears_by_sms_and_the_team_in_dingtalk_at_every_step(make_desk, run,
                                                                          robots):
    desk_with(make_desk, {"group": DING, "sms": SMS}, STEPS)
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    for step in (("start", number), ("resolve", number, "-m", "更换主板后测试正常"),
                 ("close", number, "--csat", "5")):
        assert run(*step).exit_code == 0
    sent = run("notify", "send")
    assert sent.exit_code == 0, sent.stderr
    sms = [text for kind, phone, text in robots.taken if kind == "sms" and phone == CUSTOMER]
    assert [s.split("，")[0].split("「")[0] for s in sms] == [
        "您的服务请求已受理", f"您的工单{number}状态已更新为", f"您的工单{number}已处理完成",
        f"您的工单{number}已关闭"]
    assert all(len(s) <= 70 for s in sms)
    group = [(title, text) for kind, title, text in robots.taken if kind == "dingtalk"]
    assert [title.split("：")[0] for title, _ in group] == [
        f"[{number}] 新工单", f"[{number}] 开始处理（处理中）", f"[{number}] 处理完成",
        f"[{number}] 已关闭"]
    assert "**客户**：张伟" in group[0][1] and "X1-Pro 笔记本" in group[0][1]
    assert robots.refused == []
    shown = run("show", number, "--format", "json")
    notes = [e["note"] for e in json.loads(shown.stdout)["events"] if e["action"] == "notice"]
    assert sum("(sms)" in n and "138****0000" in n for n in notes) == 4
    assert sum("group (dingtalk)" in n for n in notes) == 4
    again = run("notify", "send")
    assert again.exit_code == 0 and len(robots.taken) == 8  # never sent twice
    preview = run("notify", "preview", number, "closed")
    assert preview.exit_code == 0, preview.stderr
    assert f"Via: sms to 张伟 {CUSTOMER}" in preview.stdout
    assert f"您的工单{number}已关闭，感谢您的支持！" in preview.stdout
    assert "Via: group" in preview.stdout and "**状态**：已关闭" in preview.stdout


def test_wecom_feishu_and_a_webhook_each_get_their_platforms_form_signed(make_desk, run,
                                                                         robots):
    channels = {"wecom": {"kind": "wecom", "url_env": "WECOM_URL"},
                "feishu": {"kind": "feishu", "url_env": "FEISHU_URL",
                           "secret_env": "FEISHU_SECRET"},
                "hook": {"kind": "webhook", "url_env": "HOOK_URL", "secret_env": "HOOK_SECRET"}}
    desk_with(make_desk, channels, {"created": [
        {"template": "team", "to": ["wecom", "feishu", "hook"]}]})
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    sent = run("notify", "send")
    assert sent.exit_code == 0, sent.stderr
    assert robots.refused == []
    taken = {kind: (title, body) for kind, title, body in robots.taken}
    assert taken["wecom"][1].startswith(f"### [{number}] 新工单：电脑无法开机故障报修")
    assert taken["feishu"][0] == f"[{number}] 新工单：电脑无法开机故障报修"
    assert "**状态**：派工中" in taken["feishu"][1]  # as it is once new assigned it
    hook = taken["webhook"][1]
    assert hook["ticket"] == number and hook["event"] == "created" and hook["status"] == "assigned"
    listed = run("notify", "list")
    assert "The outbox is empty" in listed.stdout


def test_a_failing_robot_keeps_its_notice_names_the_channel_and_backs_off(make_desk, run,
                                                                         robots, monkeypatch):
    desk_with(make_desk, {"group": DING}, {"created": [{"template": "team", "to": ["group"]}]})
    robots.fail_next["/robot/send"] = 1
    assert run(*FAULT).exit_code == 0
    failed = run("notify", "send")
    assert failed.exit_code != 0
    line = failed.stderr.strip()
    assert "\n" not in line and "钉钉 channel group (127.0.0.1)" in line
    assert "answered HTTP 500" in line and "try later" in line and "stay queued" in line
    assert "ding-token" not in failed.stderr and DING_SECRET not in failed.stderr
    kept = json.loads(run("notify", "list", "--format", "json").stdout)
    assert [(e["state"], e["attempts"]) for e in kept] == [("pending", 1)]
    assert kept[0]["retry_at"] and "HTTP 500" in kept[0]["error"]
    early = run("notify", "send")  # within the back-off: not tried, still kept
    assert early.exit_code == 0 and robots.taken == []
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-22T10:05:00+08:00")
    later = run("notify", "send")
    assert later.exit_code == 0, later.stderr
    assert len(robots.taken) == 1
    assert json.loads(run("notify", "list", "--format", "json").stdout) == []


@pytest.mark.parametrize("channel, said", [
    ({"kind": "webhook", "url": "{base}/moved"},
     "answered HTTP 302, a redirect to collector.example.net (not followed)"),
    ({"kind": "webhook", "url": "{base}/slow"}, "no answer in 1 s"),
    ({"kind": "webhook", "url": "{base}/nowhere"}, "answered HTTP 404"),
    ({"kind": "dingtalk", "url_env": "DING_URL", "secret_env": "WRONG_SECRET"},
     'answered {"errcode": 310000, "errmsg": "sign not match"}'),
    ({"kind": "dingtalk", "url_env": "UNSET_URL"},
     "the environment variable UNSET_URL is not set"),
    ({"kind": "webhook", "url": "http://127.0.0.1:9/hook"}, "unreachable"),
], ids=["redirect", "timeout", "4xx", "wrong secret", "no address", "refused"])
def test_each_way_a_channel_fails_is_one_line_and_loses_nothing(make_desk, run, robots,
                                                                monkeypatch, channel, said):
    monkeypatch.setenv("WRONG_SECRET", "SECnot-the-secret")
    channel = {k: v.replace("{base}", robots.base) for k, v in channel.items()}
    desk_with(make_desk, {"ops": channel}, {"created": [{"template": "team", "to": ["ops"]}]})
    assert run(*FAULT).exit_code == 0
    failed = run("notify", "send")
    assert failed.exit_code != 0
    assert said in failed.stderr and failed.stderr.count("\n") == 1, failed.stderr
    assert "SECnot-the-secret" not in failed.stderr
    kept = json.loads(run("notify", "list", "--format", "json").stdout)
    assert len(kept) == 1 and kept[0]["state"] == "pending" and said in kept[0]["error"]


def test_an_sms_too_long_for_its_parts_is_refused_naming_the_channel(make_desk, run, robots):
    desk = desk_with(make_desk, {"sms": {**SMS, "parts": 1}},
                     {"created": [{"template": "long", "to": ["customer"], "via": ["sms"]}]})
    (desk.root / "templates" / "notices").mkdir(parents=True, exist_ok=True)
    (desk.root / "templates" / "notices" / "long.sms.j2").write_text(
        "您的工单{{ number }}已受理。" + "请保持电话畅通，工程师将与您联系。" * 4, encoding="utf-8")
    made = run(*FAULT)
    assert made.exit_code == 0
    assert "SMS channel sms: the text is" in made.stderr and "at most 1" in made.stderr
    kept = json.loads(run("notify", "list", "--format", "json").stdout)
    assert [e["state"] for e in kept] == ["failed"]
    sent = run("notify", "send")
    assert sent.exit_code != 0 and robots.taken == []
    assert len(json.loads(run("notify", "list", "--format", "json").stdout)) == 1


def test_any_sms_gateway_takes_the_request_its_template_makes(make_desk, run, robots):
    gateway = {"kind": "sms", "gateway": "http", "url_env": "GATEWAY_URL",
               "secret_env": "HOOK_SECRET",
               "request": {"headers": {"Authorization": "Bearer {{ secret }}",
                                       "Content-Type": "application/json"},
                           "body": '{"to": {{ phone | tojson }}, "text": {{ text | tojson }}}'},
               "ok": {"field": "result.code", "equals": "0"}}
    desk_with(make_desk, {"sms": gateway},
              {"created": [{"template": "ack", "to": ["customer"], "via": ["sms"]}]})
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    assert run("notify", "send").exit_code == 0
    assert robots.taken == [("sms", CUSTOMER, robots.taken[0][2])]
    assert robots.taken[0][2].startswith(f"您的服务请求已受理，工单号{number}。")
    blocked = [BLOCKED if arg == CUSTOMER else arg for arg in FAULT]
    assert run(*blocked).exit_code == 0
    refused = run("notify", "send")
    assert refused.exit_code != 0
    assert "SMS channel sms (127.0.0.1): answered" in refused.stderr
    assert "(result.code is '21')" in refused.stderr and WEBHOOK_SECRET not in refused.stderr


def test_done_when_every_step_of_an_on_site_repair_reaches_the_customer_and_the_group(
        make_desk, run, robots, monkeypatch):
    """A desk configured for 钉钉 and SMS: accepted, dispatched, the engineer setting off
    and arriving, resolved after the desk's own review, closed; every step declared in
    rules.yaml."""
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    statuses = dict(data["statuses"])
    data["statuses"] = {}
    for key, value in statuses.items():
        if key == "resolved":
            data["statuses"].update({
                "dispatched": {"label": "已派工待上门"}, "on_the_way": {"label": "工程师出发"},
                "on_site": {"label": "到达现场"},
                "reviewing": {"label": "待审核", "clock": "done"}})
            value = {**value, "clock": "done"}
        data["statuses"][key] = value
    moves = data["workflow"]["transitions"]
    moves.update({
        "visit": {"from": ["assigned", "in_progress"], "to": "dispatched"},
        "depart": {"from": ["dispatched"], "to": "on_the_way", "notices": ["departed"]},
        "arrive": {"from": ["on_the_way"], "to": "on_site", "notices": ["arrived"]},
        "leave": {"from": ["on_site"], "to": "in_progress", "notices": []},
        "audit": {"label": "审核通过", "from": ["reviewing"], "to": "resolved",
                  "by": ["lead"], "notices": ["resolved"]}})
    moves["visit"]["notices"] = ["visit_booked"]
    moves["resolve"].update(to="reviewing", notices=["status_changed"])
    data["notices"]["channels"] = {"group": DING, "sms": SMS}
    both = {"created": "ack", "assigned": "status", "visit_booked": "visit_booked",
            "departed": "departed", "arrived": "arrived", "resolved": "resolved",
            "closed": "closed"}
    data["notices"]["events"] = {
        event: [{"template": template, "to": ["customer"], "via": ["sms"]},
                {"template": "team", "to": ["group"]}] for event, template in both.items()}
    data["notices"]["events"]["status_changed"] = [{"template": "team", "to": ["group"]}]
    make_desk(files={"rules.yaml": yaml.safe_dump(data, allow_unicode=True, sort_keys=False)})
    assert run("rules", "check").exit_code == 0
    monkeypatch.setenv("SVCDESK_AGENT", "liu.yang")
    assert run(*FAULT).exit_code == 0
    number = ids(run)[0]
    assert run("visit", number, "--at", "2026-11-23 14:00").exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T13:20:00+08:00")
    assert run("depart", number).exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T13:55:00+08:00")
    assert run("arrive", number).exit_code == 0
    assert run("leave", number).exit_code == 0
    assert run("resolve", number, "-m", "更换主板后测试正常").exit_code == 0
    assert run("notify", "send").exit_code == 0
    told = [text for kind, _, text in robots.taken if kind == "sms"]
    assert not any("已处理完成" in text for text in told)  # not before the review
    monkeypatch.setenv("SVCDESK_AGENT", "li.qiang")
    assert run("audit", number).exit_code == 0
    assert run("close", number, "--csat", "5").exit_code == 0
    sent = run("notify", "send")
    assert sent.exit_code == 0, sent.stderr
    told = [text for kind, phone, text in robots.taken if kind == "sms" and phone == CUSTOMER]
    said = ["已受理", "派工中", "已预约上门", "已出发", "已到达现场", "已处理完成", "已关闭"]
    assert [next(w for w in said if w in text) for text in told] == said
    group = [title for kind, title, _ in robots.taken if kind == "dingtalk"]
    steps = [title.split("] ")[1].split("：")[0] for title in group]
    assert steps == ["新工单", "已派工", "预约上门", "工程师出发", "到达现场",
                     "处理完成（待审核）", "处理完成", "已关闭"], steps
    assert robots.refused == []
