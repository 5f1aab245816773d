"""Notices by email through a real SMTP server (aiosmtpd, started by the test): headers,
encoding, threading, never twice, failures that leave them queued, and broken templates."""

import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.smtp import AuthResult

from conftest import FAULT, commit_count, git, svcdesk_process
from svcdesk.adapters import mail
from svcdesk.domain import notices
from svcdesk.base.errors import ExitCode
from servers import Inbox, free_port, smtp, start_server  # noqa: F401  (smtp: the fixture)

FRIDAY_1730 = "2026-11-20T17:30:00+08:00"
ID = "20261120-1"
WITH_EMAIL = FAULT + ("--email", "zhang.wei@example.cn", "--impact", "single", "--urgency",
                      "high")


@pytest.fixture
def ticket(desk, run, monkeypatch):
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    result = run(*WITH_EMAIL)
    assert result.exit_code == 0, result.stderr
    return desk


def test_the_customer_gets_a_readable_chinese_acknowledgement_with_the_promised_times(
        ticket, run, smtp):
    result = run("notify", "send")
    assert result.exit_code == 0, result.stderr
    received = {m["To"].addresses[0].addr_spec: (to, m) for to, m in smtp.parsed()}
    assert set(received) == {"zhang.wei@example.cn", "li.qiang@example.com"}
    to, ack = received["zhang.wei@example.cn"]
    assert to == ["zhang.wei@example.cn"]
    assert str(ack["Subject"]) == "[SD-20261120-0001] 您的服务请求已受理：电脑无法开机故障报修"
    assert ack["From"].addresses[0].display_name == "示例售后服务台"
    assert ack["To"].addresses[0].display_name == "张伟"
    body = ack.get_content()
    assert "工单号为 SD-20261120-0001" in body
    assert "2026-11-23 10:30 前与您联系（2小时工作时间内）" in body
    assert ack.get_content_charset() == "utf-8"
    raw = smtp.messages[0][1]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # non-ASCII headers are RFC 2047 encoded
    assert b"=?utf-8?" in head


def test_notices_of_one_ticket_share_a_thread_and_are_never_sent_twice(ticket, run, smtp,
                                                                       monkeypatch):
    assert run("notify", "send").exit_code == 0
    before = commit_count(ticket.root)
    again = run("notify", "send")
    assert again.exit_code == 0 and again.stdout == ""
    assert len(smtp.messages) == 2 and commit_count(ticket.root) == before
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T11:00:00+08:00")
    assert run("--as", "li.qiang", "resolve", ID, "-m", "更换硬盘后正常开机").exit_code == 0
    assert run("notify", "send").exit_code == 0
    messages = [m for _, m in smtp.parsed()]
    threads = {m["References"] for m in messages}
    assert len(threads) == 1 and {m["In-Reply-To"] for m in messages} == threads
    assert len({m["Message-ID"] for m in messages}) == len(messages) == 3
    resolved = messages[-1]
    assert "您的问题已处理完成" in str(resolved["Subject"])
    assert "更换硬盘后正常开机" in resolved.get_content()
    log = git(ticket.root, "log", "-1", "--format=%s%n%an")
    assert log.split("\n")[:2] == ["notify: 1 notice(s) delivered", "svcdesk"]
    shown = run("show", ID, "--format", "json").stdout
    assert shown.count('"action": "notice"') == 3


def test_an_unreachable_server_leaves_the_notices_queued_with_a_clear_error(ticket, run,
                                                                           monkeypatch):
    port = free_port()
    monkeypatch.setenv("SVCDESK_SMTP_URL", f"smtp://127.0.0.1:{port}")
    result = run("notify", "send")
    assert result.exit_code == ExitCode.DELIVERY
    assert "unreachable" in result.stderr and "stay queued" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert [e["state"] for e in _outbox(run)] == ["pending", "pending"]
    controller, inbox = start_server(port)
    try:
        assert run("notify", "send").exit_code == 0
        assert len(inbox.messages) == 2 and _outbox(run) == []
    finally:
        controller.stop()


def test_a_refused_login_leaves_the_notices_queued(ticket, run, monkeypatch):
    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.password == b"right", handled=False)

    port = free_port()
    controller, inbox = start_server(port, authenticator)
    try:
        monkeypatch.setenv("SVCDESK_SMTP_URL", f"smtp://desk@127.0.0.1:{port}")
        monkeypatch.setenv("SVCDESK_SMTP_PASSWORD", "wrong")
        result = run("notify", "send")
        assert result.exit_code == ExitCode.DELIVERY and "login refused" in result.stderr
        assert inbox.messages == [] and len(_outbox(run)) == 2
        monkeypatch.setenv("SVCDESK_SMTP_PASSWORD", "right")
        assert run("notify", "send").exit_code == 0 and len(inbox.messages) == 2
    finally:
        controller.stop()


@pytest.mark.slow  # kill -9
def test_a_run_killed_between_two_messages_never_sends_the_first_again(ticket, run,
                                                                       monkeypatch):
    """The server takes the first notice and holds the second; the run is killed there.
    The first was marked sent the moment the server took it, so the next run records it
    and sends only the second (before, a kill anywhere in a batch sent it all again)."""
    import asyncio
    import signal

    class Holding(Inbox):
        async def handle_DATA(self, server, session, envelope):
            if self.messages:
                await asyncio.sleep(60)  # the second: held until the run is killed
            return await super().handle_DATA(server, session, envelope)

    from aiosmtpd.controller import Controller

    port = free_port()
    held = Holding()
    controller = Controller(held, hostname="127.0.0.1", port=port)
    controller.start()
    env = {"SVCDESK_SMTP_URL": f"smtp://127.0.0.1:{port}"}
    try:
        proc = svcdesk_process("notify", "send", cwd=ticket.root, env=env)
        deadline = time.monotonic() + 30
        while not held.messages and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the second message is on its way
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        controller.stop()
    first = held.messages[0][1]
    port = free_port()
    controller, inbox = start_server(port)
    monkeypatch.setenv("SVCDESK_SMTP_URL", f"smtp://127.0.0.1:{port}")
    try:
        assert run("notify", "send").exit_code == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1 and inbox.messages[0][1] != first  # the second only
    assert _outbox(run) == []
    shown = run("show", ID, "--format", "json").stdout
    assert shown.count('"action": "notice"') == 2  # both recorded, once


def test_a_password_in_the_address_is_refused(ticket, run, monkeypatch):
    monkeypatch.setenv("SVCDESK_SMTP_URL", "smtp://desk:secret@127.0.0.1:25")
    result = run("notify", "send")
    assert result.exit_code == ExitCode.USAGE and "SVCDESK_SMTP_PASSWORD" in result.stderr


def test_a_broken_template_is_named_the_change_lands_and_the_notice_waits_for_the_fix(
        desk, run, smtp, monkeypatch):
    template = desk.root / "templates/notices/ack.j2"
    good = template.read_text()
    template.write_text(good.replace("{% endif %}", "{% endiff %}", 1))
    git(desk.root, "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qam", "oops")
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    before = commit_count(desk.root)
    result = run(*WITH_EMAIL)
    assert result.exit_code == 0
    assert commit_count(desk.root) == before + 1  # the ticket is recorded all the same
    assert "templates/notices/ack.j2:8:" in result.stderr and "endiff" in result.stderr
    assert "notice ack not sent for 1 ticket(s) (SD-20261120-0001)" in result.stderr
    failed = run("notify", "send")
    assert failed.exit_code == ExitCode.TEMPLATE
    assert [m["To"].addresses[0].addr_spec for _, m in smtp.parsed()] == \
        ["li.qiang@example.com"]
    template.write_text(good)
    assert run("notify", "send").exit_code == 0
    assert [m["To"].addresses[0].addr_spec for _, m in smtp.parsed()][-1] == \
        "zhang.wei@example.cn"


def test_an_unknown_variable_is_named_with_its_line(desk, run, monkeypatch):
    (desk.root / "templates/notices/ack.j2").write_text("主题 {{ title }}\n\n{{ custmer.name }}\n")
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    result = run(*WITH_EMAIL)
    assert result.exit_code == 0
    assert "templates/notices/ack.j2:3: 'custmer' is undefined" in result.stderr


@pytest.mark.parametrize("attack", [
    "{{ title.__class__.__mro__[1].__subclasses__() }}",
    "{{ ticket.items.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
])
def test_a_template_cannot_reach_python_internals(desk, run, monkeypatch, attack):
    (desk.root / "templates/notices/ack.j2").write_text(f"主题\n\n{attack}\n")
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    result = run(*WITH_EMAIL)
    assert result.exit_code == 0
    assert "templates/notices/ack.j2:3:" in result.stderr
    assert [e["state"] for e in _outbox(run) if e["event"] == "created"] == ["failed"]


@pytest.mark.parametrize("greedy, said", [
    ("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(1) }}", "recursion too deep"),
    ("{{ 'a' * 10**9 }}", "an expression would make 1,000,000,000 characters"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}"
     "{% endfor %}", "its output passed 200,000 characters"),
    ("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
     "{{ m(40) }}", "rendering took over"),
])
def test_a_greedy_template_ends_in_a_failed_notice_naming_it_and_the_change_lands(
        desk, run, monkeypatch, greedy, said):
    from svcdesk.adapters import templating

    monkeypatch.setattr(templating, "MAX_SECONDS", 0.5)  # the test need not wait 5 s
    monkeypatch.setattr(templating, "MAX_OUTPUT", 200_000)
    (desk.root / "templates/notices/ack.j2").write_text(f"主题\n\n{greedy}\n")
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    before = commit_count(desk.root)
    result = run(*WITH_EMAIL)
    assert result.exit_code == 0 and commit_count(desk.root) == before + 1
    assert "templates/notices/ack.j2" in result.stderr and said in result.stderr
    created = [e for e in _outbox(run) if e["event"] == "created"]
    assert [e["state"] for e in created] == ["failed"] and said in created[0]["error"]
    assigned = [e["state"] for e in _outbox(run) if e["event"] == "assigned"]
    assert assigned == ["pending"]  # the other notices of the change are queued as ever
    preview = run("notify", "preview", "20261120-1", "created")
    assert preview.exit_code == ExitCode.TEMPLATE and said in preview.stderr


def test_line_breaks_in_names_and_subjects_cannot_add_headers():
    notice = notices.Notice("SD-20261120-0001", "01ABC", "01EV", "created", "ack",
                            notices.Recipient("customer", "张伟\r\nBcc: evil@example.com",
                                              "zhang@example.cn"))
    sender = notices.Recipient("sender", "服务台\nX-Evil: 1", "desk@example.com")
    data = mail.message(notice, "您好\r\nBcc: evil@example.com", "正文", sender,
                           "example.com", __import__("datetime").datetime(2026, 11, 20))
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert "Bcc: evil@example.com" in str(parsed["Subject"])  # kept as text, on one line
    assert parsed["To"].addresses[0].addr_spec == "zhang@example.cn"


def test_preview_shows_the_message_without_queueing_it(ticket, run):
    before = _outbox(run)
    result = run("notify", "preview", ID, "resolved")
    assert result.exit_code == 0, result.stderr
    assert "Subject: [SD-20261120-0001] 您的问题已处理完成" in result.stdout
    assert "To: 张伟 <zhang.wei@example.cn>" in result.stdout
    assert _outbox(run) == before
    assert run("notify", "preview", ID, "exploded").exit_code == ExitCode.USAGE


def test_compiled_templates_are_kept_but_an_edited_or_damaged_one_is_never_used(ticket, run):
    cache = ticket.root / ".git" / "svcdesk" / "templates"
    first = run("notify", "preview", ID, "resolved")
    assert first.exit_code == 0 and "您的问题已处理完成" in first.stdout
    kept = sorted(cache.iterdir())
    assert kept  # compiled once, for the next command
    assert run("notify", "preview", ID, "resolved").stdout == first.stdout
    template = ticket.root / "templates" / "notices" / "resolved.j2"
    template.write_text(template.read_text(encoding="utf-8").replace("处理完成", "解决了"),
                        encoding="utf-8")
    assert "您的问题已解决了" in run("notify", "preview", ID, "resolved").stdout
    for path in cache.iterdir():
        path.write_bytes(b"not a compiled template")
    assert "您的问题已解决了" in run("notify", "preview", ID, "resolved").stdout


def test_a_notice_sent_by_hand_is_the_first_response(ticket, run, smtp, monkeypatch):
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T09:20:00+08:00")
    result = run("--as", "li.qiang", "notify", "send", ID, "status_changed")
    assert result.exit_code == 0, result.stderr
    import json

    data = json.loads(run("show", ID, "--format", "json").stdout)
    assert data["clocks"]["response"]["state"] == "met"
    assert data["clocks"]["response"]["met_at"] == "2026-11-23T09:20:00+08:00"


def test_two_deliveries_at_once_send_each_notice_once(ticket, smtp):
    procs = [svcdesk_process("notify", "send", cwd=ticket.root) for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len(smtp.messages) == 2


def test_sla_check_notices_go_to_the_people_the_ladder_names(ticket, run, smtp, monkeypatch):
    assert run("notify", "send").exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T10:40:00+08:00")
    assert run("sla", "check").exit_code == 0
    assert run("notify", "send").exit_code == 0
    late = [m for _, m in smtp.parsed()][2:]
    subjects = {(m["To"].addresses[0].addr_spec, str(m["Subject"])) for m in late}
    assert ("li.qiang@example.com", "[SD-20261120-0001] 已超时：电脑无法开机故障报修") in subjects
    assert any("工单升级" in s for _, s in subjects)


def test_an_english_desk_sends_english_notices(make_desk, run, smtp, monkeypatch):
    desk = make_desk()
    rules = (desk.root / "rules.yaml").read_text()
    (desk.root / "rules.yaml").write_text(rules.replace("language: zh", "language: en"))
    git(desk.root, "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qam", "en")
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    assert run(*WITH_EMAIL).exit_code == 0
    assert run("notify", "send").exit_code == 0
    subjects = sorted(str(m["Subject"]) for _, m in smtp.parsed())
    assert subjects[1] == "[SD-20261120-0001] We have your request: 电脑无法开机故障报修"


def _outbox(run):
    import json

    result = run("notify", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_an_internationalised_domain_travels_in_idna(desk, run, smtp, monkeypatch):
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    assert run(*FAULT, "--email", "zhang@例子.cn").exit_code == 0
    assert run("notify", "send").exit_code == 0
    envelopes = [to for to, _ in smtp.messages]
    assert ["zhang@xn--fsqu00a.cn"] in envelopes


def test_an_update_due_reminds_the_engineer_to_tell_the_customer(ticket, run, smtp,
                                                                 monkeypatch):
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T09:05:00+08:00")
    run("comment", ID, "-m", "已收到，工程师今天联系您")  # update due 4 working hours later
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T14:10:00+08:00")
    assert "update: 2026-11-23T14:05" in run("sla", "check").stdout
    assert run("notify", "send").exit_code == 0
    last = [m for _, m in smtp.parsed()][-1]
    assert str(last["Subject"]) == "[SD-20261120-0001] 请向客户通报进展：电脑无法开机故障报修"
    assert "2026-11-23 14:05" in last.get_content()


def test_with_no_smtp_notify_send_keeps_the_notices_and_says_nothing_to_cron(ticket, run):
    """A desk with no SMTP keeps its notices by choice: cron, which mails whatever a job
    writes, gets nothing from the run every five minutes (a terminal is told)."""
    before = _outbox(run)
    result = run("notify", "send")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    assert _outbox(run) == before and before


def test_a_name_hiding_a_line_break_in_encoded_words_is_refused_and_old_ones_preview(
        desk, run, monkeypatch):
    import base64

    hidden = "=?utf-8?b?" + base64.b64encode("张伟\r\nBcc: evil@example.com".encode()).decode() \
        + "?="
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    refused = run(*WITH_EMAIL, "--customer", hidden)
    assert refused.exit_code == ExitCode.INVALID and "single line" in refused.stderr
    assert run(*WITH_EMAIL).exit_code == 0
    path = desk.root / "tickets/2026/11/SD-20261120-0001.yaml"  # one written before the fix
    path.write_text(path.read_text(encoding="utf-8").replace("name: 张伟", f"name: {hidden}"),
                    encoding="utf-8")
    git(desk.root, "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qam", "old")
    preview = run("notify", "preview", "20261120-1", "created")
    assert preview.exit_code != ExitCode.FAILURE and "internal error" not in preview.stderr


@pytest.mark.parametrize("broken, message", [
    ("{# 没有结束的注释\n", "Missing end of comment tag"),
    ("{% if title %}\n", "Unexpected end of template"),
])
def test_a_syntax_error_names_the_template_once_by_its_desk_path(desk, run, monkeypatch,
                                                                  broken, message):
    (desk.root / "templates/notices/ack.j2").write_text("主题\n\n第三行\n" + broken)
    monkeypatch.setenv("SVCDESK_NOW", FRIDAY_1730)
    assert run(*WITH_EMAIL).exit_code == 0
    preview = run("notify", "preview", "20261120-1", "created")
    assert preview.exit_code == ExitCode.TEMPLATE
    assert preview.stderr.startswith("Error: templates/notices/ack.j2:4: " + message)


def test_an_assignment_after_the_first_response_does_not_repeat_its_old_due_time(
        ticket, run, monkeypatch):
    """A response already given has no due time left to tell the new assignee about."""
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T09:00:00+08:00")
    assert run("--as", "li.qiang", "comment", "20261120-1", "-m", "已电话联系客户").exit_code == 0
    assert run("priority", "20261120-1", "P1", "-m", "客户生产线停了").exit_code == 0
    assert run("assign", "20261120-1", "zhou.hao").exit_code == 0
    preview = run("notify", "preview", "20261120-1", "assigned")
    assert preview.exit_code == 0, preview.stderr
    assert "解决截止" in preview.stdout and "首次响应截止" not in preview.stdout
    told = [e for e in _outbox(run) if e["event"] == "assigned"]
    assert told  # the first assignment, before the response, was queued as ever
