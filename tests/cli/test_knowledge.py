"""Similar tickets and the knowledge base from the command line: similar by number or
text, show --similar, new on a terminal, kb list|show|new|search, search --kb, and broken
articles named with their file and line."""

import json

from svcdesk.base.errors import ExitCode

from conftest import FAULT, commit_count
from test_templates_and_replies import _terminal

ARTICLE = """---
title: LP-404 卡纸处理
products: [LP-404 激光打印机]
tags: [卡纸]
---

更换搓纸轮。
"""


def jam_number(run) -> str:
    listed = json.loads(run("list", "--status", "all", "--format", "json").stdout)
    return next(t["id"] for t in listed if t["title"] == "激光打印机频繁卡纸")


def test_similar_by_number_gives_solved_tickets_with_their_resolution_and_time(make_desk, run):
    make_desk(sample=True)
    number = jam_number(run)
    result = run("similar", number, "--format", "json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["about"] == number and "卡纸" in found["words"]
    first = found["tickets"][0]
    assert first["title"] == "激光打印机频繁卡纸" and first["id"] != number
    assert first["resolution"] and first["took_minutes"] > 0
    assert found["articles"][0]["name"] == "lp404-paper-jam"
    text = run("similar", number).stdout
    assert "相似的已解决工单" in text and "用时" in text and "lp404-paper-jam" in text


def test_similar_by_text_and_show_similar(make_desk, run):
    make_desk(sample=True)
    found = json.loads(run("similar", "空调", "外机不转", "--format", "json").stdout)
    assert found["about"] is None and found["tickets"][0]["title"] == "空调不制冷，室外机不转"
    assert found["articles"][0]["name"] == "ac-e6-not-cooling"
    number = jam_number(run)
    data = json.loads(run("show", number, "--similar", "--format", "json").stdout)
    assert data["similar"][0]["title"] == "激光打印机频繁卡纸"
    assert "相似的已解决工单" in run("show", number, "--similar").stdout


def test_new_on_a_terminal_shows_the_closest_solved_tickets(make_desk, run):
    desk = make_desk(sample=True)
    out = _terminal(["new", "--type", "fault", "--title", "打印机老是卡纸", "--customer", "张伟",
                     "--phone", "13800000000", "--product", "LP-404 激光打印机",
                     "--purchased", "2026-05-01", "--description", "打印几张就卡纸"],
                    desk.root, [])
    assert "相似的已解决工单" in out and "激光打印机频繁卡纸" in out, out
    assert "lp404-paper-jam" in out


def test_kb_new_from_a_resolved_ticket_drafts_and_commits_an_article(make_desk, run):
    desk = make_desk(sample=True)
    number = jam_number(run)
    before = commit_count(desk.root)
    result = run("kb", "new", "--from", number, "--name", "jam-2")
    assert result.exit_code == 0, result.stderr
    assert commit_count(desk.root) == before + 1
    text = (desk.root / "kb/jam-2.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: 激光打印机频繁卡纸\n") and number in text
    shown = json.loads(run("kb", "show", "jam-2", "--format", "json").stdout)
    assert shown["products"] == ["LP-404 激光打印机"] and "## 处理" in shown["body"]
    assert "jam-2" in run("kb", "list").stdout
    open_one = run(*FAULT, "-q").stdout.strip()
    result = run("kb", "new", "--from", open_one)
    assert result.exit_code == ExitCode.INVALID and "no resolution" in result.stderr


def test_kb_new_with_a_title_and_search_finds_it_by_words(desk, run):
    result = run("kb", "new", "--title", "Router reboots: upgrade the firmware",
                 "-m", "路由器频繁自动重启时升级固件到 V5.1。", "--product", "R-160 企业路由器")
    assert result.exit_code == 0, result.stderr
    assert "kb/router-reboots-upgrade-the-firmware.md" in result.stdout
    found = json.loads(run("kb", "search", "路由器", "重启", "--format", "json").stdout)
    assert found[0]["name"] == "router-reboots-upgrade-the-firmware"
    assert run("kb", "new", "--title", "x", "--name", "router-reboots-upgrade-the-firmware"
               ).exit_code == ExitCode.INVALID


def test_search_kb_lists_articles_after_the_tickets(make_desk, run):
    make_desk(sample=True)
    rows = json.loads(run("search", "卡纸", "--kb", "--format", "json").stdout)
    kinds = [r["type"] for r in rows]
    assert kinds[-1] == "kb" and "kb" not in kinds[:-1] and rows[-1]["id"] == "kb/lp404-paper-jam"
    plain = json.loads(run("search", "卡纸", "--format", "json").stdout)
    assert all(r["type"] != "kb" for r in plain)


def test_an_article_with_broken_front_matter_is_named_with_its_line(make_desk, run):
    make_desk(files={"kb/bad.md": "---\ntitle: 好\ncolour: red\n---\n正文\n",
                     "kb/noyaml.md": "---\ntitle: [unclosed\n---\n",
                     "kb/nohead.md": "正文而已\n"})
    result = run("kb", "show", "bad")
    assert result.exit_code == ExitCode.INVALID and "kb/bad.md:3:" in result.stderr
    assert "colour" in result.stderr and "Traceback" not in result.stderr
    result = run("kb", "show", "noyaml")
    assert result.exit_code == ExitCode.INVALID and "kb/noyaml.md:" in result.stderr
    result = run("kb", "show", "nohead")
    assert result.exit_code == ExitCode.INVALID and "kb/nohead.md:1:" in result.stderr
    assert run("kb", "list").exit_code == ExitCode.INVALID
    assert run("kb", "show", "../rules").exit_code == ExitCode.USAGE
