"""Spare parts and fees out of warranty: stock is the sum of its movements and never goes
below zero unnoticed; an out-of-warranty repair is quoted from the fee schedule, approved
before work starts, and charged; the weekly report shows the money and the parts."""

import json

import pytest

from svcdesk.base.errors import ExitCode

from conftest import commit_count

PART = ("parts", "add", "rm1-2337", "--name", "定影组件", "--models", "LP-404 激光打印机",
        "--unit-cost", "86.50", "--price", "180", "--minimum", "3")


def ok(run, *args) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def ticket(run, purchased="2024-01-01", product="LP-404 激光打印机") -> str:
    return ok(run, "new", "--type", "fault", "--title", "打印机卡纸", "--description", "卡纸",
              "--customer", "王先生", "--phone", "13800001111", "--product", product,
              "--purchased", purchased, "-q").strip()


def stock(run, part="RM1-2337") -> dict:
    return json.loads(ok(run, "parts", "stock", part, "--format", "json"))[0]


def test_stock_is_received_used_and_given_back_with_each_movement_on_the_ticket(desk, run):
    ok(run, *PART)
    ok(run, "parts", "receive", "RM1-2337", "5")
    ok(run, "parts", "receive", "RM1-2337", "2", "--to", "suzhou", "-m", "调拨单 DB-7")
    number = ticket(run)
    said = ok(run, "parts", "use", number, "rm1-2337", "--qty", "2")
    assert "使用备件 RM1-2337 定影组件 ×2（杭州总仓）" in said
    ok(run, "parts", "return", number, "RM1-2337", "--qty", "1")
    level = stock(run)
    assert (level["main"], level["suzhou"], level["total"]) == (4, 2, 6)
    data = json.loads(ok(run, "show", number, "--format", "json"))
    assert [e["action"] for e in data["events"][-2:]] == ["part-use", "part-return"]
    assert data["events"][-2]["ref"] == "part:RM1-2337*2@main"
    part = json.loads(ok(run, "parts", "show", "RM1-2337", "--format", "json"))
    assert [e["action"] for e in part["events"]] == ["create", "receive", "receive", "use",
                                                      "return"]
    assert part["events"][3]["ref"] == f"ticket:{data['uid']}"
    assert part["events"][3]["changes"] == {"stock.main": {"from": "5", "to": "3"}}


def test_a_use_past_the_stock_is_refused_and_changes_nothing(desk, run):
    ok(run, *PART)
    ok(run, "parts", "receive", "RM1-2337", "1")
    number = ticket(run)
    before = commit_count(desk.root)
    result = run("parts", "use", number, "RM1-2337", "--qty", "2")
    assert result.exit_code == ExitCode.INVALID
    assert result.stderr == ("Error: part RM1-2337: stock: 杭州总仓 holds 1, 2 needed (`svcdesk "
                             "parts receive RM1-2337 N` when it arrives; rules.yaml "
                             "parts.backorders allows a backorder)\n")
    assert commit_count(desk.root) == before and stock(run)["main"] == 1


def test_a_desk_that_allows_backorders_records_one_and_says_so(make_desk, run):
    root = make_desk().root
    rules = root / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("  backorders: false",
                                                               "  backorders: true"),
                     encoding="utf-8")
    from conftest import commit_all

    commit_all(root)
    ok(run, *PART)
    number = ticket(run)
    result = run("parts", "use", number, "RM1-2337", "--qty", "2")
    assert result.exit_code == 0, result.stderr
    assert "缺货 2（backorder）" in result.stdout
    assert "short by 2" in result.stderr
    level = stock(run)
    assert level["main"] == -2 and level["short"] == ["main"]
    assert "缺货 short" in ok(run, "parts", "stock")


@pytest.mark.parametrize("args, said", [
    (("parts", "use", "{n}", "NO-SUCH"), "no part NO-SUCH"),
    (("parts", "use", "{n}", "RM1-2337", "--qty", "-1"), "qty: -1"),
    (("parts", "use", "{n}", "RM1-2337", "--qty", "0"), "qty: 0"),
    (("parts", "use", "{n}", "RM1-2337", "--from", "mars"), "warehouse 'mars'"),
    (("parts", "return", "{n}", "RM1-2337"), "used 0 from main"),
    (("parts", "add", "X-1", "--name", "x", "--unit-cost", "1.234"), "two decimals"),
    (("parts", "add", "RM1-2337", "--name", "again"), "exists already"),
    (("parts", "receive", "RM1-2337", "--", "-3"), "qty: -3"),
    (("quote", "{n}", "--labour", "80.005"), "two decimals"),
])
def test_bad_part_and_fee_input_names_what_is_wrong_and_changes_nothing(desk, run, args, said):
    ok(run, *PART)
    ok(run, "parts", "receive", "RM1-2337", "3")
    number = ticket(run)
    before = commit_count(desk.root)
    result = run(*(a.format(n=number) for a in args))
    assert result.exit_code != 0 and said in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert commit_count(desk.root) == before


def test_an_out_of_warranty_repair_is_quoted_approved_before_work_starts_and_charged(desk, run):
    ok(run, *PART)
    ok(run, "parts", "receive", "RM1-2337", "3")
    number = ticket(run)
    ok(run, "parts", "use", number, "RM1-2337")
    refused = run("--as", "li.qiang", "start", number)
    assert refused.exit_code == ExitCode.WORKFLOW and "quote it first" in refused.stderr
    said = ok(run, "quote", number, "--on-site")
    assert "报价 ¥380.00：人工 ¥120.00，上门 ¥80.00，备件 ¥180.00" in said
    refused = run("--as", "li.qiang", "start", number)
    assert refused.exit_code == ExitCode.WORKFLOW and "not approved yet" in refused.stderr
    ok(run, "approve", number, "-m", "电话确认")
    ok(run, "--as", "li.qiang", "start", number)
    ok(run, "charge", number, "350")
    fee = json.loads(ok(run, "show", number, "--format", "json"))["fee"]
    assert fee == {"labour": "120.00", "travel": "80.00", "parts": "180.00",
                   "quote": "380.00", "approval": "approved", "charged": "350.00"}


def test_the_product_schedule_wins_and_a_ticket_in_warranty_is_free(desk, run):
    number = ticket(run, purchased="2026-01-01", product="X1-Pro 笔记本")
    refused = run("quote", number)
    assert refused.exit_code == ExitCode.WORKFLOW and "in warranty" in refused.stderr
    ok(run, "--as", "liu.yang", "start", number)  # no quote needed in warranty
    said = ok(run, "quote", number, "--not-covered", "-m", "进水，不在保修范围")
    assert "人工 ¥200.00" in said  # X1-Pro's own labour fee


def test_a_declined_quote_keeps_work_from_starting_and_a_new_quote_is_asked_again(desk, run):
    number = ticket(run)
    ok(run, "quote", number)
    ok(run, "decline", number, "-m", "太贵")
    refused = run("--as", "li.qiang", "start", number)
    assert "declined" in refused.stderr
    ok(run, "quote", number, "--labour", "60")
    assert json.loads(ok(run, "show", number, "--format", "json"))["fee"].get(
        "approval") is None


def test_the_weekly_report_shows_revenue_parts_cost_and_parts_below_minimum(desk, run):
    ok(run, *PART)
    ok(run, "parts", "receive", "RM1-2337", "3")
    number = ticket(run)
    ok(run, "parts", "use", number, "RM1-2337", "--qty", "1")
    ok(run, "quote", number)
    ok(run, "approve", number)
    ok(run, "charge", number, "300")
    week = ("--week", "2026-W47")
    data = json.loads(ok(run, "report", "weekly", *week, "--format", "json"))
    money = data["money"]
    assert (money["revenue"], money["parts_cost"], money["charged_tickets"]) == (
        "300.00", "86.50", 1)
    assert money["by_product"] == [{"product": "LP-404 激光打印机", "name": "LP-404 激光打印机",
                                    "revenue": "300.00", "parts_cost": "86.50"}]
    assert money["by_agent"][0]["agent"] == "li.qiang"
    assert money["parts_used"] == [{"part": "RM1-2337", "name": "定影组件", "units": 1,
                                    "cost": "86.50"}]
    assert money["below_minimum"] == [{"part": "RM1-2337", "name": "定影组件", "stock": 2,
                                       "minimum": 3}]
    text = ok(run, "report", "weekly", *week)
    assert "保外收入 ¥300.00（1 个工单收费），备件成本 ¥86.50。" in text
    assert "低于最低库存：RM1-2337 定影组件（库存 2，最低 3）" in text
    csv = ok(run, "report", "weekly", *week, "--format", "csv")
    assert "money,,revenue,300.00" in csv and "parts_used,RM1-2337,cost,86.50" in csv


def test_the_customer_is_sent_the_quote_to_approve(desk, run):
    number = ok(run, "new", "--type", "fault", "--title", "打印机卡纸", "--description", "卡纸",
                "--customer", "王先生", "--phone", "13800001111", "--email", "wang@example.cn",
                "--product", "LP-404 激光打印机", "--purchased", "2024-01-01", "-q").strip()
    ok(run, "quote", number, "--on-site", "-m", "定影组件老化，建议更换")
    listed = json.loads(ok(run, "notify", "list", "--format", "json"))
    quoted = [n for n in listed if n.get("template") == "quote"]
    assert len(quoted) == 1, listed
    preview = ok(run, "notify", "preview", number, "quoted")
    assert "合计：  ¥200.00" in preview and "定影组件老化，建议更换" in preview


def test_a_part_not_listed_for_the_tickets_model_is_used_with_a_warning(desk, run):
    ok(run, *PART)
    ok(run, "parts", "receive", "RM1-2337", "2")
    number = ticket(run, product="X1-Pro 笔记本")
    result = run("parts", "use", number, "RM1-2337")
    assert result.exit_code == 0
    assert ("Warning: part RM1-2337 is listed for LP-404 激光打印机, not for X1-Pro 笔记本"
            in result.stderr)
