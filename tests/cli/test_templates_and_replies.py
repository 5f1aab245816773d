"""Ticket templates (new --template, templates) and canned replies (comment --reply,
resolve --reply, replies): what they fill in, what wins, and bad templates refused with
the file and line, nothing changed."""

import json
import os
import pty
import select
import subprocess
import time

from svcdesk.base.errors import ExitCode

from conftest import BIN, FAULT, commit_count

PRINTER = ("--customer", "张伟", "--phone", "13800000000", "--product", "LP-404 激光打印机",
           "--purchased", "2026-05-01")


def shown(run, number) -> dict:
    result = run("show", number, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def made(run, *args) -> str:
    result = run("new", *args, "-q")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_a_template_fills_type_category_tags_and_the_description_skeleton(desk, run):
    ticket = shown(run, made(run, "--template", "printer-jam", *PRINTER))
    assert ticket["type"] == "fault" and ticket["category"] == "printer"
    assert ticket["tags"] == ["卡纸"] and ticket["expected"] == "repair"
    assert ticket["title"] == "打印机卡纸"
    assert ticket["description"].startswith("卡纸位置（进纸口/机内/定影器/出纸口）：\n")


def test_options_win_over_the_template(desk, run):
    ticket = shown(run, made(run, "-t", "printer-jam", *PRINTER, "--title", "财务部打印机卡纸",
                             "--description", "每打十张卡一次", "--set", "tags=急件"))
    assert ticket["title"] == "财务部打印机卡纸" and ticket["description"] == "每打十张卡一次"
    assert ticket["tags"] == ["急件"] and ticket["category"] == "printer"


def test_templates_lists_the_shipped_set_and_a_desk_template_overrides_one(make_desk, run):
    make_desk(files={"templates/tickets/printer-jam.yaml":
                     "label: 复印机卡纸\nfields: {type: fault, category: copier}\n"})
    listed = {t["name"]: t for t in json.loads(run("templates", "--format", "json").stdout)}
    assert {"printer-jam", "no-power", "how-to", "complaint", "upgrade", "return",
            "invoice"} <= set(listed)
    assert listed["printer-jam"]["label"] == "复印机卡纸"
    assert listed["no-power"]["fields"]["type"] == "fault"
    table = run("templates").stdout
    assert "复印机卡纸" in table and "电脑无法开机" in table


def test_an_english_desk_gets_the_english_templates(make_desk, run):
    root = make_desk().root
    rules = (root / "rules.yaml").read_text(encoding="utf-8")
    (root / "rules.yaml").write_text(rules.replace("language: zh", "language: en", 1),
                                     encoding="utf-8")
    listed = {t["name"]: t for t in json.loads(run("templates", "--format", "json").stdout)}
    assert listed["printer-jam"]["label"] == "Printer paper jam"
    ticket = shown(run, made(run, "-t", "printer-jam", *PRINTER))
    assert ticket["description"].startswith("Where does the paper jam")


def test_a_template_with_an_unknown_field_is_refused_naming_file_and_line(make_desk, run):
    root = make_desk(files={"templates/tickets/bad.yaml":
                            "label: 坏模板\nfields:\n  type: fault\n  colour: red\n"}).root
    before = commit_count(root)
    result = run("new", "-t", "bad", *PRINTER)
    assert result.exit_code == ExitCode.INVALID
    assert "templates/tickets/bad.yaml:4:" in result.stderr and "colour" in result.stderr
    assert "Traceback" not in result.stderr and commit_count(root) == before


def test_a_template_with_a_type_the_desk_lacks_is_refused_naming_file_and_line(make_desk, run):
    make_desk(files={"templates/tickets/bad.yaml":
                     "label: 坏模板\ntitle: x\nfields:\n  type: repairz\n"})
    result = run("new", "-t", "bad", *PRINTER)
    assert result.exit_code == ExitCode.INVALID
    assert "templates/tickets/bad.yaml:4:" in result.stderr or \
        "templates/tickets/bad.yaml" in result.stderr
    assert "repairz" in result.stderr
    assert run("templates").exit_code == ExitCode.INVALID  # the listing names it as well


def test_a_template_that_is_not_yaml_or_asks_for_an_unknown_field_is_named(make_desk, run):
    make_desk(files={"templates/tickets/broken.yaml": "label: [unclosed\n",
                     "templates/tickets/asks.yaml": "label: x\nask: [product.colour]\n"})
    result = run("new", "-t", "broken", *PRINTER)
    assert result.exit_code == ExitCode.INVALID and "broken.yaml:" in result.stderr
    result = run("new", "-t", "asks", *PRINTER)
    assert result.exit_code == ExitCode.INVALID and "asks.yaml:2:" in result.stderr


def test_an_unknown_template_names_the_ones_the_desk_has(desk, run):
    result = run("new", "-t", "no-such", *PRINTER)
    assert result.exit_code == ExitCode.INVALID
    assert "no-such" in result.stderr and "printer-jam" in result.stderr
    assert "printer-jam.en" not in result.stderr  # a translation, not a template of its own
    assert run("new", "-t", "../../rules", *PRINTER).exit_code == ExitCode.INVALID


def _terminal(args, cwd, answers: list, timeout=30.0) -> str:
    """Run svcdesk on a pseudo-terminal, answering each prompt in turn; its output."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(BIN / "svcdesk"), *args], cwd=cwd, stdin=slave,
                            stdout=slave, stderr=slave, env={**os.environ, "COLUMNS": "120"})
    os.close(slave)
    out, pending, deadline = b"", list(answers), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if pending and out.rstrip().endswith((b":", b"\xef\xbc\x9a", b"?", b"]")):
                os.write(master, (pending.pop(0) + "\n").encode())
        elif proc.poll() is not None:
            break
    proc.wait(timeout=5)
    os.close(master)
    return out.decode("utf-8", "replace")


def test_on_a_terminal_new_offers_the_templates_and_asks_the_skeleton_questions(desk, run):
    picked = ["printer-jam", "张伟", "13800000000", "LP-404 激光打印机", "2026-05-01",
              "PJ-001", "", "出纸口", "A4 70克", "", "", ""]
    out = _terminal(["new"], desk.root, picked)
    numbers = [t["id"] for t in json.loads(run("list", "--format", "json").stdout)]
    assert len(numbers) == 1, out
    ticket = shown(run, numbers[0])
    assert ticket["category"] == "printer" and ticket["product"]["serial"] == "PJ-001"
    assert "卡纸位置（进纸口/机内/定影器/出纸口）： 出纸口" in ticket["description"]
    assert "纸张规格、克重和品牌： A4 70克" in ticket["description"]
    assert "面板是否显示错误代码：" in ticket["description"]  # unanswered, kept to ask


def test_comment_reply_renders_the_ticket_and_adds_the_message_after_it(desk, run):
    number = made(run, "-t", "printer-jam", *PRINTER)
    result = run("comment", number, "--reply", "printer-jam", "-m", "另：建议使用 80 克纸。")
    assert result.exit_code == 0, result.stderr
    event = shown(run, number)["events"][-1]
    assert event["action"] == "comment" and event["visibility"] == "public"
    assert event["note"].startswith(f"张伟好，关于 {number}「打印机卡纸」：")
    assert "（LP-404 激光打印机）" in event["note"] and "王芳" in event["note"]
    assert event["note"].endswith("\n\n另：建议使用 80 克纸。")


def test_resolve_reply_is_the_resolution(desk, run):
    number = made(run, *FAULT[1:])
    assert run("start", number).exit_code == 0
    result = run("resolve", number, "--reply", "remote-fixed")
    assert result.exit_code == 0, result.stderr
    ticket = shown(run, number)
    assert ticket["status"] == "resolved"
    assert ticket["resolution"].startswith("已通过电话/远程指导客户处理，问题已解决（X1-Pro 笔记本）")
    assert run("resolve", number).exit_code == ExitCode.USAGE  # neither -m nor --reply


def test_an_unknown_reply_changes_nothing_and_names_the_ones_there_are(desk, run):
    number = made(run, *FAULT[1:])
    before = commit_count(desk.root)
    result = run("comment", number, "--reply", "thanks")
    assert result.exit_code == ExitCode.INVALID
    assert "thanks" in result.stderr and "printer-jam" in result.stderr
    assert commit_count(desk.root) == before


def test_a_reply_that_does_not_render_is_named_with_its_line_and_nothing_changes(
        make_desk, run):
    root = make_desk(files={"templates/replies/oops.j2": "您好，\n{{ ticket.no_such.thing }}\n",
                            "templates/replies/escape.j2":
                            "{{ ''.__class__.__mro__[1].__subclasses__() }}\n"}).root
    number = made(run, *FAULT[1:])
    before = commit_count(root)
    result = run("comment", number, "--reply", "oops")
    assert result.exit_code != 0 and "templates/replies/oops.j2:2" in result.stderr
    result = run("resolve", number, "--reply", "escape")
    assert result.exit_code != 0 and "templates/replies/escape.j2" in result.stderr
    assert "Traceback" not in result.stderr and commit_count(root) == before


def test_replies_lists_each_with_what_it_is_for_and_a_preview(desk, run):
    listed = {r["name"]: r for r in json.loads(run("replies", "--format", "json").stdout)}
    assert {"printer-jam", "need-info", "on-site", "remote-fixed"} <= set(listed)
    assert listed["need-info"]["label"] == "请客户补充信息"
    number = made(run, *FAULT[1:])
    listed = {r["name"]: r for r in json.loads(
        run("replies", "--ticket", number, "--format", "json").stdout)}
    assert listed["need-info"]["preview"].startswith(f"张伟好，为尽快处理 {number}")
