"""Imports from platform exports (`svcdesk import`): a 淘宝 refund export in GBK with its
="..." numbers, a 京东 service-order export in UTF-8 with a BOM and a cell over two lines, and
an Excel workbook written by another library; each good row a ticket, all in one commit,
each bad row named by its line, and a row imported once however often its file is."""

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import yaml

from svcdesk.base.errors import ExitCode

from conftest import JD_HEADERS, commit_count, jd_csv, jd_row

DATA = Path(__file__).parents[1] / "data" / "imports"
TAOBAO = DATA / "taobao_refunds_gbk.csv"
JD = DATA / "jd_service_orders_utf8_bom.csv"
def ticket(root, number) -> dict:
    path = root / f"tickets/{number[3:7]}/{number[7:9]}/{number}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def tickets(root) -> list:
    return sorted(root.glob("tickets/*/*/*.yaml"))


def test_a_gbk_taobao_export_becomes_tickets_in_one_commit_and_bad_rows_are_named(desk, run):
    before = commit_count(desk.root)
    result = run("import", TAOBAO)
    assert result.exit_code == ExitCode.INVALID
    assert commit_count(desk.root) == before + 1
    assert "read as gb18030): 3 new, 1 skipped, 2 refused" in result.stdout
    assert f"{TAOBAO}:5: no 退款编号 (the layout's key column)" in result.stderr
    assert f"{TAOBAO}:6: field product.purchased: '2026-13-45' is not a real date" \
        in result.stderr
    assert "2 rows of" in result.stderr and "the other rows were taken" in result.stderr
    first = ticket(desk.root, "SD-20261122-0001")
    assert first["title"] == "质量问题 · LP-404 激光打印机 家用办公 黑白"
    assert first["customer"] == {"name": "tb_张三丰"}
    assert str(first["product"]["order_no"]) == "3920417786512345678"  # ="..." taken off
    assert str(first["product"]["purchased"]) == "2026-11-20"  # the day of a date and time
    assert first["description"].splitlines()[:3] == [
        "买家退款说明：收到就卡纸，打印第二张就卡住，换了纸也一样", "买家退款原因：质量问题",
        "退款编号：201938475620011"]
    assert first["type"] == "return" and first["channel"] == "ecommerce"
    assert first["expected"] == "refund" and first["return_reason"] == "defect"  # the rules
    assert first["tags"] == ["淘宝", "incomplete"]  # the platform hides the buyer's phone
    assert first["assignee"] and first["events"][0]["rule"] == "import: taobao: 201938475620011"
    third = ticket(desk.root, "SD-20261122-0003")
    assert str(third["product"]["purchased"]) == "2026-11-28"  # 2026/11/28 as well
    assert third["return_reason"] == "wrong_item"


def test_importing_the_same_export_again_changes_nothing(desk, run, tmp_path):
    path = jd_csv(tmp_path / "jd.csv", [jd_row("1688001"), jd_row("1688002", "换货")])
    first = run("import", path)
    assert first.exit_code == 0, first.stderr
    before = commit_count(desk.root)
    again = run("import", path)
    assert again.exit_code == 0, again.stderr
    assert "0 new, 2 skipped, 0 refused" in again.stdout
    assert "SD-20261122-0001" in again.stdout and "already imported" in again.stdout
    assert commit_count(desk.root) == before and len(tickets(desk.root)) == 2
    more = jd_csv(tmp_path / "jd2.csv", [jd_row("1688002", "换货"), jd_row("1688003")])
    assert "1 new, 1 skipped" in run("import", more).stdout
    assert len(tickets(desk.root)) == 3


def test_a_dry_run_shows_what_would_be_made_and_changes_nothing(desk, run):
    before = commit_count(desk.root)
    result = run("import", JD, "--dry-run")
    assert result.exit_code == ExitCode.INVALID  # two rows would be refused
    assert "nothing was changed (dry run)" in result.stderr
    assert "2 would be made" in result.stdout and "dry run, nothing changed" in result.stdout
    assert "(new)" in result.stdout and "1688001" in result.stdout
    assert commit_count(desk.root) == before and tickets(desk.root) == []
    assert json.loads(run("notify", "list", "--format", "json").stdout) == []


def test_a_jd_export_maps_its_words_and_counts_lines_as_the_file_has_them(desk, run):
    result = run("import", JD)
    assert result.exit_code == ExitCode.INVALID
    assert "read as utf-8-sig" in result.stdout
    # the first row's problem takes two lines, so the rows after it start a line later
    assert (f"{JD}:5: 服务类型: '补发商品' is not in imports.jd.values.type "
            "(known: 退货, 换货, 维修)") in result.stderr
    assert f"{JD}:6: field customer.phone: '138****5678' is not a phone number" in result.stderr
    repair = ticket(desk.root, "SD-20261122-0001")
    assert repair["type"] == "fault" and repair["expected"] == "repair"
    assert str(repair["customer"]["phone"]) == "13706751234"
    assert repair["description"].startswith("问题描述：开机后指示灯一直闪烁，无法打印\n已经重启过多次\n")
    exchange = ticket(desk.root, "SD-20261122-0002")
    assert exchange["type"] == "return" and exchange["expected"] == "replace"
    assert exchange["tags"][0] == "京东"


def test_an_excel_workbook_gives_numbers_and_dates_as_the_platform_meant_them(desk, run,
                                                                            tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表由京东商家后台导出"])
    sheet = book.create_sheet("服务单")
    sheet.append(JD_HEADERS)
    sheet.append([1688001, 290011223344, 100012345678, "惠普 LP-404 激光打印机", "维修",
                  "质量问题", "无法开机", datetime(2026, 11, 21, 10, 0), "待审核", "刘建国",
                  13706751234, "浙江省绍兴市", datetime(2026, 6, 18, 21, 5, 33)])
    path = tmp_path / "京东服务单.xlsx"
    book.save(path)
    wrong = run("import", path)  # the first sheet is the note
    assert wrong.exit_code == ExitCode.USAGE and "matches none of the layouts" in wrong.stderr
    result = run("import", path, "--sheet", "服务单")
    assert result.exit_code == 0, result.stderr
    assert "read as sheet 服务单): 1 new" in result.stdout
    made = ticket(desk.root, "SD-20261122-0001")
    assert str(made["product"]["order_no"]) == "290011223344"  # not 290011223344.0
    assert str(made["customer"]["phone"]) == "13706751234"
    assert str(made["product"]["purchased"]) == "2026-06-18"
    assert made["events"][0]["rule"] == "import: jd: 1688001"
    missing = run("import", path, "--sheet", "表3")
    assert missing.exit_code == ExitCode.USAGE and "it has: 说明, 服务单" in missing.stderr


def test_an_export_in_utf16_with_tabs_and_one_named_by_its_encoding_are_read(desk, run,
                                                                           tmp_path):
    unicode_text = jd_csv(tmp_path / "unicode.txt", [jd_row("1")], "utf-16", "\t")
    result = run("import", unicode_text)
    assert result.exit_code == 0, result.stderr
    assert "read as utf-16" in result.stdout
    gbk = jd_csv(tmp_path / "gbk.csv", [jd_row("2")], "gbk")
    wrong = run("import", gbk, "--encoding", "utf-8")
    assert wrong.exit_code == ExitCode.USAGE and "gbk.csv: not utf-8" in wrong.stderr
    result = run("import", gbk, "--encoding", "gb18030")
    assert result.exit_code == 0, result.stderr
    assert ticket(desk.root, "SD-20261122-0002")["customer"]["name"] == "刘建国"


def test_a_file_of_no_known_layout_or_lacking_a_column_is_refused_whole(desk, run, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("编号,名称\n1,打印机\n", encoding="utf-8")
    result = run("import", other)
    assert result.exit_code == ExitCode.USAGE
    assert "matches none of the layouts in rules.yaml imports: (taobao, jd); it has: 编号, 名称" \
        in result.stderr
    lacking = tmp_path / "lacking.csv"
    lacking.write_text("服务单号,订单号\n1,2\n", encoding="utf-8")
    result = run("import", lacking)
    assert result.exit_code == ExitCode.USAGE
    assert "the jd layout needs the column(s) 服务类型, 商品名称, 客户姓名" in result.stderr
    assert run("import", other, "--layout", "amazon").exit_code == ExitCode.USAGE
    assert tickets(desk.root) == []


def test_imported_tickets_are_assigned_as_if_they_came_one_by_one_and_notices_queued(
        desk, run, tmp_path):
    path = jd_csv(tmp_path / "jd.csv", [jd_row(str(n)) for n in range(1, 7)])
    assert run("import", path).exit_code == 0
    owners = [ticket(desk.root, f"SD-20261122-{n:04d}")["assignee"] for n in range(1, 7)]
    assert len(set(owners)) > 1  # the batch's loads count: not all to the first agent
    queued = json.loads(run("notify", "list", "--format", "json").stdout)
    assert sum(n["event"] == "assigned" for n in queued) == 6
    quiet = jd_csv(tmp_path / "jd2.csv", [jd_row("7")])
    assert run("import", quiet, "--no-notices").exit_code == 0
    assert len(json.loads(run("notify", "list", "--format", "json").stdout)) == len(queued)


def test_a_layout_naming_an_unknown_field_is_a_rules_error_naming_it(desk, run, tmp_path):
    rules = (desk.root / "rules.yaml").read_text(encoding="utf-8")
    (desk.root / "rules.yaml").write_text(rules.replace("      customer.address: 收货地址\n",
                                                        "      customer.adress: 收货地址\n"),
                                          encoding="utf-8")
    result = run("import", JD)
    assert result.exit_code == ExitCode.RULES
    assert "imports.jd.columns.customer.adress" in result.stderr


def test_an_imported_row_from_a_known_customer_is_linked_and_inherits_tier_and_region(
        desk, run, tmp_path):
    added = run("customer", "add", "--name", "刘建国", "--phone", "137-0675-1234",
                "--region", "绍兴", "--tier", "key")
    customer = added.stdout.split()[0]
    result = run("import", jd_csv(tmp_path / "jd.csv", [jd_row("1688001"),
                                                         jd_row("1688002", phone="")]))
    assert result.exit_code == 0, result.stderr
    linked, unknown = (ticket(desk.root, f"SD-20261122-000{n}") for n in (1, 2))
    assert linked["customer"]["id"] == customer
    assert (linked["customer"]["tier"], linked["customer"]["region"]) == ("key", "绍兴")
    assert "id" not in unknown["customer"]
