"""The service review on a desk built with known timings: every figure against a value
worked out by hand (the standard calendar: 09:00-18:00 with lunch 12:00-13:00)."""

import json
import os
import shutil

import pytest

from conftest import FAULT, commit_all
from svcdesk.app.desk import Desk
from svcdesk.base.errors import ExitCode

URGENT = FAULT + ("--impact", "single", "--urgency", "high")  # P2


_WEEK: dict = {}  # speed switch -> the week's desk, worked once per run, copied for each test


@pytest.fixture
def week_desk(make_desk, run, monkeypatch, tmp_path):
    """Tickets of 2026-W46 and W47 (16-22 November), worked at known moments (twenty
    commands, worked once and copied: a fifth of a second a test)."""
    key = os.environ.get("SVCDESK_SPEED")
    if key not in _WEEK:
        _WEEK[key] = _worked_week(make_desk(name="week"), run, monkeypatch).root
    root = tmp_path / "desk"
    shutil.copytree(_WEEK[key], root, symlinks=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T09:00:00+08:00")
    return Desk(root)


def _worked_week(desk, run, monkeypatch):
    def at(when, *args):
        monkeypatch.setenv("SVCDESK_NOW", f"2026-11-{when}:00+08:00")
        result = run(*args)
        assert result.exit_code == 0, (args, result.stderr)
        return result.stdout.strip()

    at("12T10:00", *FAULT, "--title", "扫码枪无法识别条码", "--product", "BS-20 扫码枪", "-q")  # D
    a = at("16T09:00", *URGENT, "--title", "打印机卡纸", "--product", "LP-404 打印机", "-q")
    at("16T10:00", "comment", a, "-m", "您好，工程师已接单")
    at("16T15:00", "--as", "li.qiang", "resolve", a, "-m", "更换搓纸轮")
    at("17T10:00", "close", a, "--csat", "5")
    b = at("17T17:00", *FAULT, "--title", "打印机卡纸严重", "--product", "LP-404 打印机", "-q")
    at("18T09:30", "--as", "li.qiang", "wait", b, "-m", "请提供照片")
    at("19T09:00", "--as", "li.qiang", "resume", b)
    at("19T11:00", "--as", "li.qiang", "resolve", b, "-m", "清理纸路")
    at("20T10:00", "reopen", b, "-m", "又卡纸了")
    at("20T11:00", "--as", "li.qiang", "resolve", b, "-m", "更换定影器")
    at("18T10:00", *FAULT, "--title", "网络录像机无法回放", "--product", "NV-8 录像机", "-q")
    e = at("21T10:00", *FAULT, "--title", "路由器频繁断线", "--product", "R-160 路由器", "-q")
    at("21T11:00", "escalate", e, "-m", "需要组长协调备件")
    return desk


def review(run, *args):
    result = run("report", "weekly", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_every_figure_of_the_week_matches_the_hand_count(week_desk, run):
    r = review(run)
    assert r["period"] == {"kind": "week", "label": "2026-W47",
                           "start": "2026-11-16T00:00:00+08:00",
                           "end": "2026-11-23T00:00:00+08:00", "timezone": "Asia/Shanghai"}
    assert (r["created"], r["resolved"], r["closed"], r["reopened"]) == (4, 2, 1, 1)
    # open at the end: B (resolved, awaiting confirmation), C, D (last week's), E
    assert r["backlog"] == {"open": 4, "ages": {"<1d": 0, "1-3d": 1, "3-7d": 2, "7-30d": 1,
                                                ">30d": 0}}
    # first responses: A after 60 min (60 working), B after 990 min (90 working)
    assert r["first_response"] == {
        "count": 2, "median_minutes": 525.0, "mean_minutes": 525.0, "p90_minutes": 990.0,
        "working": {"median_minutes": 75.0, "mean_minutes": 75.0, "p90_minutes": 90.0,
                    "buckets": {"≤1h": 1, "1-4h": 1, "4-8h": 0, "8-16h": 0, "16-40h": 0,
                                ">40h": 0}}}
    # resolutions: A 360 min (300 working), B 3,960 min (270 working: waiting and the
    # resolved day before the reopen left out)
    assert r["resolution"] == {
        "count": 2, "median_minutes": 2160.0, "mean_minutes": 2160.0, "p90_minutes": 3960.0,
        "working": {"median_minutes": 285.0, "mean_minutes": 285.0, "p90_minutes": 300.0,
                    "buckets": {"≤1h": 0, "1-4h": 0, "4-8h": 2, "8-16h": 0, "16-40h": 0,
                                ">40h": 0}}}
    assert r["sla"] == {"response_met": 2, "response_breached": 0, "response_met_pct": 100.0,
                        "resolution_met": 2, "resolution_breached": 0,
                        "resolution_met_pct": 100.0}
    assert r["fcr_pct"] == 50.0 and r["reopen_pct"] == 50.0  # B was reopened
    assert r["csat"] == {"avg": 5.0, "responses": 1, "response_rate_pct": 100.0,
                         "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}}
    assert r["escalations"] == 1
    assert r["previous"]["label"] == "2026-W46" and r["previous"]["created"] == 1
    assert r["change"]["created"] == 3 and r["change"]["backlog"] == 3
    handled = [a for a in r["by_agent"] if a["handled"]]
    assert len(handled) == 1 and handled[0]["handled"] == 2  # A and B had one owner
    assert handled[0]["median_resolution_minutes"] == 285.0
    assert handled[0]["sla_met_pct"] == 100.0 and handled[0]["csat_avg"] == 5.0
    assert sum(a["open"] for a in r["by_agent"]) == 4
    assert {t["type"]: t["created"] for t in r["by_type"]} == {"fault": 4}
    assert r["recurring"]["products"][0] == {"name": "LP-404 打印机", "count": 2}
    assert {"name": "卡纸", "count": 2} in r["recurring"]["terms"]


def test_a_past_week_does_not_change_when_later_tickets_come(week_desk, run, monkeypatch):
    before = run("report", "weekly", "--week", "2026-W47").stdout
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-24T10:00:00+08:00")
    assert run(*FAULT, "--title", "新的故障").exit_code == 0
    assert run("reopen", "1117-1", "-m", "客户来电说又卡纸").exit_code == 0  # B, this week
    again = run("report", "weekly", "--week", "2026-W47").stdout
    assert again == before
    assert "2026-W47" in again and "| 新建工单 | 4 |" in again


def test_the_report_reviews_the_desk_as_committed_not_a_hand_edit_in_progress(week_desk,
                                                                               run):
    """It reads the desk as committed (and so never makes git look at every file): a hand
    edit counts once it is committed, as the team's record."""
    before = review(run)
    path = next(week_desk.root.glob("tickets/2026/11/SD-20261118-0001.yaml"))
    path.write_text(path.read_text(encoding="utf-8").replace("type: fault", "type: inquiry",
                                                             1), encoding="utf-8")
    assert review(run) == before
    commit_all(week_desk.root, "an inquiry after all")
    assert review(run)["by_type"] != before["by_type"]


def test_an_empty_week_is_a_valid_report_that_says_so(desk, run):
    r = review(run, "--week", "2026-W10")
    assert r["created"] == 0 and r["first_response"]["median_minutes"] is None
    assert r["fcr_pct"] is None and r["csat"]["avg"] is None
    text = run("report", "weekly", "--week", "2026-W10").stdout
    assert "本期没有工单" in text


def test_csv_has_one_row_per_figure_and_defuses_formulas(week_desk, run, monkeypatch):
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-20T12:00:00+08:00")
    assert run(*FAULT, "--title", "=cmd|' /C calc'!A0", "--product", "=HYPERLINK(1)").exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T09:00:00+08:00")
    text = run("report", "weekly", "--format", "csv").stdout
    lines = text.splitlines()
    assert lines[0] == "\ufeffsection,dimension,figure,value"  # Excel reads UTF-8 by it
    assert run("report", "weekly", "--format", "csv", "--no-bom").stdout == text[1:]
    assert "summary,,created,5" in lines
    assert "recurring_products,'=HYPERLINK(1),count,1" in lines
    assert not any(cell.startswith(("=", "+", "@")) for line in lines
                   for cell in line.split(","))
    assert "change,2026-W46,created,4" in lines


def test_filters_and_english(week_desk, run):
    r = review(run, "--product", "LP-404")
    assert r["created"] == 2 and r["filters"] == {"product": "LP-404"}
    rules = (week_desk.root / "rules.yaml").read_text()
    (week_desk.root / "rules.yaml").write_text(rules.replace("language: zh", "language: en"))
    text = run("report", "weekly").stdout
    assert "| created | 4 | 1 | +3 |" in text


@pytest.mark.parametrize("args, message", [
    (("weekly", "--week", "2026-W60"), "no such week"),
    (("weekly", "--week", "soon"), "is not a week"),
    (("monthly", "--month", "2026-13"), "is not a month"),
    (("range", "--from", "2026-11-20", "--to", "2026-11-01"), "ends"),
])
def test_a_bad_period_is_one_clear_line(desk, run, args, message):
    result = run("report", *args)
    assert result.exit_code == ExitCode.USAGE and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


HOSTILE = "<script>alert(1)</script> =cmd|' /C calc'!A0"


def test_the_html_page_is_self_contained_and_harmless(week_desk, run, monkeypatch):
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-20T12:00:00+08:00")
    assert run(*FAULT, "--title", HOSTILE, "--product", "<b>X</b>").exit_code == 0
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T09:00:00+08:00")
    page = run("report", "weekly", "--format", "html").stdout
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 4
    assert "<script" not in page
    assert "<b>X</b>" not in page and "&lt;b&gt;X&lt;/b&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "@page { size: A4" in page


def test_the_same_desk_and_period_give_the_same_bytes(week_desk, run):
    for fmt in ("md", "html", "json", "csv"):
        first = run("report", "weekly", "--week", "2026-W47", "--format", fmt).stdout
        assert first and run("report", "weekly", "--week", "2026-W47", "--format",
                             fmt).stdout == first


def test_commit_puts_the_report_under_reports_once(week_desk, run):
    from conftest import commit_count, git

    before = commit_count(week_desk.root)
    result = run("report", "weekly", "--commit")
    assert result.exit_code == 0 and "reports/weekly-2026-W47.md: committed" in result.stderr
    assert commit_count(week_desk.root) == before + 1
    assert "reports/weekly-2026-W47.md" in git(week_desk.root, "show", "--name-only",
                                               "--format=", "HEAD")
    again = run("report", "weekly", "--commit")
    assert "unchanged" in again.stderr and commit_count(week_desk.root) == before + 1


def test_mail_sends_the_markdown_with_the_html_page_alongside(week_desk, run, monkeypatch):
    from email import message_from_bytes, policy

    from servers import free_port, start_server

    port = free_port()
    controller, inbox = start_server(port)
    try:
        monkeypatch.setenv("SVCDESK_SMTP_URL", f"smtp://127.0.0.1:{port}")
        result = run("report", "weekly", "--mail", "manager", "--mail", "boss@example.com")
        assert result.exit_code == 0, result.stderr
        (to, data), = inbox.messages
        assert sorted(to) == ["boss@example.com", "he.wei@example.com"]
        msg = message_from_bytes(data, policy=policy.default)
        assert str(msg["Subject"]) == "示例售后服务台 2026-W47"
        parts = {p.get_content_type(): p.get_content() for p in msg.iter_parts()}
        assert "| 新建工单 | 4 |" in parts["text/plain"] and "<svg" in parts["text/html"]
    finally:
        controller.stop()


def test_an_unreachable_mail_server_fails_the_run_with_one_line(week_desk, run, monkeypatch):
    from servers import free_port

    monkeypatch.setenv("SVCDESK_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    result = run("report", "weekly", "--mail", "manager")
    assert result.exit_code == ExitCode.DELIVERY and "not mailed" in result.stderr


def test_a_mail_asked_for_with_no_smtp_fails_the_run_and_keeps_the_message(week_desk, run):
    result = run("report", "weekly", "--commit", "--mail", "manager")
    assert result.exit_code == ExitCode.DELIVERY
    assert "not mailed: no SMTP is configured" in result.stderr
    kept = list((week_desk.root / ".git/svcdesk/outbox").glob("report-2026-W47.eml"))
    assert kept and b"he.wei@example.com" in kept[0].read_bytes()
    assert "reports/weekly-2026-W47.md: committed" in result.stderr  # the commit stands


@pytest.mark.slow  # a real browser, started for the test
def test_headless_chromium_renders_the_page_with_chinese_glyphs_not_boxes(week_desk, run,
                                                                          tmp_path):
    """A real Chromium draws the page, Chinese included: with no CJK font on the machine
    every character is the same empty box, so the page and a copy whose Chinese is all one
    character would look alike; with the fonts the stack names (fonts-noto-cjk here, which
    .ci/run installs), they differ."""
    import re
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "no Chromium on this machine (apt-get install chromium; .ci/run does)"
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    assert fonts.stdout.strip(), "no Chinese font (apt-get install fonts-noto-cjk)"
    page = tmp_path / "week.html"
    assert run("report", "weekly", "--format", "html", "--out", page).exit_code == 0
    text = page.read_text(encoding="utf-8")
    assert "Noto Sans CJK SC" in text and "Microsoft YaHei" in text and "PingFang SC" in text
    same = tmp_path / "same.html"
    same.write_text(re.sub(r"[\u4e00-\u9fff]", "口", text), encoding="utf-8")

    def shot(html):
        png = html.with_suffix(".png")
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                               "--no-first-run", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync",
                               f"--user-data-dir={tmp_path / 'profile'}",
                               "--window-size=1000,1400", f"--screenshot={png}",
                               html.as_uri()], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-500:]
        return png.read_bytes()

    drawn = shot(page)
    assert len(drawn) > 20_000 and drawn != shot(same)


def _replayed_counts(root, start, end, open_statuses):
    """The headline counts of [start, end) worked out straight from the ticket files: an
    independent reading of the same histories, to check the report against."""
    from datetime import datetime

    import yaml

    counts = {"created": 0, "resolved": 0, "closed": 0, "reopened": 0, "backlog": 0}
    for path in sorted(root.glob("tickets/*/*/*.yaml")):
        events = yaml.safe_load(path.read_text(encoding="utf-8"))["events"]
        times = [(datetime.fromisoformat(str(e["at"])), e) for e in events]
        created = times[0][0]
        if start <= created < end:
            counts["created"] += 1
        for action in ("resolve", "close", "reopen"):
            if any(e["action"] == action and start <= at < end for at, e in times):
                counts[{"resolve": "resolved", "close": "closed",
                        "reopen": "reopened"}[action]] += 1
        status = None
        for at, e in times:
            if at >= end:
                break
            new = (e.get("fields") or {}).get("status") or \
                ((e.get("changes") or {}).get("status") or {}).get("to")
            status = new or status
        if created < end and status in open_statuses:
            counts["backlog"] += 1
    return counts


def test_the_sample_desk_report_agrees_with_its_ticket_files(make_desk, run):
    from datetime import datetime

    desk = make_desk(sample=True)
    for week in ("last", "this"):
        r = review(run, "--week", week)
        start = datetime.fromisoformat(r["period"]["start"])
        end = datetime.fromisoformat(r["period"]["end"])
        expected = _replayed_counts(desk.root, start, end, desk.rules.open_statuses())
        got = {k: r[k] for k in ("created", "resolved", "closed", "reopened")}
        got["backlog"] = r["backlog"]["open"]
        assert got == expected, week
        assert r["created"] + r["backlog"]["open"] > 0  # the sample desk has work in it


def test_the_crontab_lines_run_as_documented(make_desk, tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path

    from servers import free_port, start_server

    desk = make_desk(sample=True)
    port = free_port()
    controller, inbox = start_server(port)
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if re.match(r"^[0-9*/]+ [0-9*]+ ", line)]
    assert len(lines) == 2, lines
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "SVCDESK_NOW": "2026-11-23T08:00:00+08:00", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),  # cron's bare environment
           "SVCDESK_SMTP_URL": f"smtp://127.0.0.1:{port}"}  # and the desk's mail server
    try:
        for line in lines:
            command = line.split(None, 5)[5].replace("/srv/desk", str(desk.root))
            done = subprocess.run(["sh", "-c", command], env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, (command, done.stderr)
    finally:
        controller.stop()
    log = subprocess.run(["git", "log", "--format=%s", "-3"], cwd=desk.root,
                         capture_output=True, text=True).stdout
    assert "report: weekly 2026-W47" in log and "sla check:" in log
    assert (desk.root / "reports" / "weekly-2026-W47.md").exists()
    from email import message_from_bytes, policy

    subjects = [str(message_from_bytes(data, policy=policy.default)["Subject"])
                for _, data in inbox.messages]
    assert "示例售后服务台 2026-W47" in subjects  # the manager's report went out


def test_a_ticket_with_a_broken_history_is_counted_as_far_as_it_can_be_and_named(
        week_desk, run):
    from conftest import git

    path = next(week_desk.root.glob("tickets/2026/11/SD-20261117-0001.yaml"))  # B
    text = path.read_text(encoding="utf-8")
    broken = text.replace("action: reopen", "action: reopen\n  colour: red", 1)
    assert broken != text
    path.write_text(broken, encoding="utf-8")
    git(week_desk.root, "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qam", "x")
    result = run("report", "weekly", "--format", "json")
    assert result.exit_code == 0
    r = json.loads(result.stdout)
    assert r["created"] == 4 and r["resolved"] == 2  # B still counts, without its reopening
    assert r["reopened"] == 0
    assert any("SD-20261117-0001.yaml" in w and "counted from the" in w
               for w in r["warnings"])
    assert "Warning: tickets/2026/11/SD-20261117-0001.yaml" in result.stderr


def test_out_never_overwrites_a_file_svcdesk_did_not_write_without_force(week_desk, run,
                                                                         tmp_path):
    page = tmp_path / "week.md"
    assert run("report", "weekly", "--out", page).exit_code == 0
    assert run("report", "weekly", "--out", page).exit_code == 0  # its own: written again
    other = tmp_path / "notes.md"
    other.write_text("my notes\n", encoding="utf-8")
    refused = run("report", "weekly", "--out", other)
    assert refused.exit_code == ExitCode.USAGE and "--force" in refused.stderr
    assert other.read_text(encoding="utf-8") == "my notes\n"
    page.write_text(page.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    assert run("report", "weekly", "--out", page).exit_code == ExitCode.USAGE
    assert run("report", "weekly", "--out", other, "--force").exit_code == 0
    assert other.read_text(encoding="utf-8").startswith("# ")


def test_a_rating_after_close_is_recorded_and_counted_in_the_week_it_is_given(desk, run,
                                                                              monkeypatch):
    """The survey asks for 1-5 after a close without --csat: `rate` records the answer,
    a second answer replaces the first, and a rating given before a reopen stays given."""
    def at(when, *args):
        monkeypatch.setenv("SVCDESK_NOW", f"2026-11-{when}:00+08:00")
        result = run(*args)
        assert result.exit_code == 0, (args, result.stderr)
        return result

    number = at("16T09:00", *FAULT, "-q").stdout.strip()
    at("16T10:00", "--as", "li.qiang", "resolve", number, "-m", "更换搓纸轮")
    at("16T11:00", "close", number)  # no rating yet: the survey goes out
    refused = run("rate", number, "9")
    assert refused.exit_code == ExitCode.USAGE
    at("17T09:00", "rate", number, "4", "--feedback", "还可以")
    at("17T10:00", "rate", number, "5")  # the customer thought again: replaces the 4
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-17T10:30:00+08:00")
    again = run("rate", number, "5")
    assert again.exit_code == ExitCode.WORKFLOW and "already rated 5" in again.stderr
    at("18T09:00", "reopen", number, "-m", "又卡纸了")
    not_closed = run("rate", number, "2")
    assert not_closed.exit_code == ExitCode.WORKFLOW and "once it is closed" in not_closed.stderr
    at("18T10:00", "--as", "li.qiang", "resolve", number, "-m", "更换定影器")
    at("18T11:00", "close", number, "--csat", "3")
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-23T09:00:00+08:00")
    csat = json.loads(run("report", "weekly", "--format", "json").stdout)["csat"]
    assert csat["responses"] == 2 and csat["distribution"]["5"] == 1 and \
        csat["distribution"]["3"] == 1  # the 5 given before the reopen still counts
    events = json.loads(run("show", number, "--format", "json").stdout)["events"]
    assert [e["action"] for e in events].count("rate") == 2
    assert json.loads(run("report", "weekly", "--week", "2026-W46", "--format", "json")
                      .stdout)["csat"]["responses"] == 0
