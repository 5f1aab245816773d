"""Customers and units: a returning customer is recognised by phone or email, the ticket
inherits tier and region and the unit's warranty; records are shown, listed, edited and
merged; bad input names the record and the field and changes nothing."""

import json

import pytest

from svcdesk.base.errors import ExitCode

from conftest import commit_all, commit_count, git

KEY = ("customer", "add", "--name", "张伟", "--company", "苏州华兴精密", "--phone",
       "13912345678", "--email", "Zhang.Wei@HuaXing.cn", "--region", "苏州", "--tier", "key")


def added(run, *args) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout.split()[0]


def new(run, *args):
    if "--serial" not in args and "--product" not in args:
        args += ("--product", "X1-Pro 笔记本", "--purchased", "2026-03-15")
    result = run("new", "--type", "fault", "--title", "笔记本无法开机",
                 "--description", "按电源键无反应，指示灯不亮", *args, "-q")
    assert result.exit_code == 0, result.stderr
    number = result.stdout.strip()
    return json.loads(run("show", number, "--format", "json").stdout)


def test_a_returning_key_customer_is_recognised_by_phone_and_gets_tier_region_and_priority(
        desk, run):
    customer = added(run, *KEY)
    ticket = new(run, "--phone", "+86 139-1234-5678", "--customer", "张先生",
                 "--product", "X1-Pro 笔记本", "--purchased", "2026-03-15")
    assert ticket["customer"]["id"] == customer
    assert ticket["customer"]["name"] == "张先生"  # what the caller said is kept
    assert ticket["customer"]["tier"] == "key" and ticket["customer"]["region"] == "苏州"
    assert ticket["customer"]["company"] == "苏州华兴精密"
    assert ticket["priority"] == "P2"  # fault P3, raised one level for a key account
    assert ticket["assignee"] == "liu.yang"  # the engineer who covers 苏州
    plain = new(run, "--phone", "13700000000", "--customer", "路人", "--product",
                "X1-Pro 笔记本", "--purchased", "2026-03-15")
    assert "id" not in plain["customer"] and plain["priority"] == "P3"


def test_an_email_finds_the_customer_whatever_its_case_and_mail_intake_links_it(desk, run,
                                                                                 tmp_path):
    customer = added(run, *KEY)
    message = tmp_path / "m.eml"
    message.write_text("From: 张伟 <ZHANG.WEI@huaxing.cn>\nTo: service@example.com\n"
                       "Subject: 打印机卡纸\nMessage-ID: <m1@huaxing.cn>\n"
                       "Content-Type: text/plain; charset=utf-8\n\n打印机卡纸，请派人来看看\n",
                       encoding="utf-8")
    result = run("mail", "ingest", message)
    assert result.exit_code == 0, result.stderr
    listed = json.loads(run("list", "--format", "json").stdout)
    assert listed[0]["customer"]["id"] == customer
    assert listed[0]["customer"]["tier"] == "key"


def test_a_unit_gives_the_ticket_its_model_purchase_and_warranty_on_the_ticket_date(desk, run):
    customer = added(run, *KEY)
    result = run("unit", "add", "sn-x1-0001", "--model", "X1-Pro 笔记本", "--customer", customer,
                 "--purchased", "2023-06-01", "--extended-until", "2027-06-01",
                 "--contract", "HT-2023-018")
    assert result.exit_code == 0, result.stderr
    ticket = new(run, "--phone", "13912345678", "--serial", "SN-x1-0001")
    assert ticket["product"]["serial"] == "SN-X1-0001"
    assert ticket["product"]["model"] == "X1-Pro 笔记本"
    assert ticket["product"]["purchased"] == "2023-06-01"
    assert ticket["product"]["contract"] == "HT-2023-018"
    assert ticket["product"]["warranty"] == "extended"  # 24 months from the catalogue, then
    shown = run("unit", "show", "SN-X1-0001")
    assert shown.exit_code == 0, shown.stderr
    assert "延保 (extended)" in shown.stdout and ticket["id"] in shown.stdout
    assert "维修记录 1 次" in shown.stdout
    data = json.loads(run("unit", "show", "sn-x1-0001", "--format", "json").stdout)
    assert data["warranty"] == "extended" and data["owner"]["id"] == customer


def test_the_warranty_drives_the_service_level(make_desk, run):
    rules = (make_desk().root / "rules.yaml")
    text = rules.read_text(encoding="utf-8").replace(
        "  policies:\n", "  policies:\n    - name: 保外-一般\n      warranty: out\n"
                         "      response: 1d\n      resolution: 10d\n", 1)
    rules.write_text(text, encoding="utf-8")
    commit_all(rules.parent)
    out = new(run, "--phone", "13700000000", "--customer", "王", "--product", "X1-Pro 笔记本",
              "--purchased", "2020-01-01")
    inside = new(run, "--phone", "13700000000", "--customer", "王", "--product",
                 "X1-Pro 笔记本", "--purchased", "2026-01-01")
    assert out["product"]["warranty"] == "out" and out["sla"]["policy"] == "保外-一般"
    assert inside["product"]["warranty"] == "in" and inside["sla"]["policy"] != "保外-一般"


def test_a_serial_of_another_customers_unit_is_refused_and_nothing_changes(desk, run):
    owner = added(run, *KEY)
    added(run, "customer", "add", "--name", "李四", "--phone", "13800001111")
    assert run("unit", "add", "SN1", "--customer", owner, "--model", "X1").exit_code == 0
    before = commit_count(desk.root)
    result = run("new", "--type", "fault", "--title", "t", "--description", "d",
                 "--phone", "13800001111", "--serial", "SN1", "--purchased", "2026-01-01")
    assert result.exit_code == ExitCode.INVALID
    assert result.stderr.startswith("Error: product.serial: SN1 is the unit of customer "
                                    + owner)
    assert commit_count(desk.root) == before


def test_customer_show_lists_open_tickets_first_with_units_ratings_and_service_levels(desk,
                                                                                      run):
    customer = added(run, *KEY)
    first = new(run, "--phone", "13912345678", "--product", "X1-Pro 笔记本",
                "--purchased", "2026-03-15")["id"]
    second = new(run, "--phone", "13912345678", "--product", "X1-Pro 笔记本",
                 "--purchased", "2026-03-15")["id"]
    for step in (("start", first), ("resolve", first, "-m", "更换主板"), ("close", first)):
        assert run("--as", "liu.yang", *step).exit_code == 0
    assert run("rate", first, "4").exit_code == 0
    shown = run("customer", "show", customer.lower())
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.index(second) < shown.stdout.index(first)  # open first
    assert "满意度 4.0/5 (1 个评价)" in shown.stdout and "重点客户" in shown.stdout
    data = json.loads(run("customer", "show", customer, "--format", "json").stdout)
    assert [t["id"] for t in data["tickets"]] == [second, first]
    assert data["csat"] == 4.0 and data["sla"]["met"] == 1


def test_two_records_of_one_person_merge_with_their_tickets_following(desk, run):
    kept = added(run, *KEY)
    gone = added(run, "customer", "add", "--name", "张伟", "--phone", "13800001111",
                 "--email", "zw@gmail.com")
    ticket = new(run, "--email", "ZW@gmail.com", "--customer", "张伟")["id"]
    result = run("customer", "merge", gone, "--into", kept)
    assert result.exit_code == 0, result.stderr
    assert "1 ticket(s)" in result.stdout
    moved = json.loads(run("show", ticket, "--format", "json").stdout)
    assert moved["customer"]["id"] == kept
    assert moved["events"][-1]["changes"]["customer.id"] == {"from": gone, "to": kept}
    again = new(run, "--phone", "138 0000 1111")
    assert again["customer"]["id"] == kept and again["customer"]["tier"] == "key"
    listed = json.loads(run("customer", "list", "--format", "json").stdout)
    assert [c["id"] for c in listed] == [kept]
    assert set(listed[0]["phones"]) == {"13912345678", "13800001111"}
    assert run("customer", "merge", gone, "--into", kept).exit_code == ExitCode.INVALID


@pytest.mark.parametrize("args, said", [
    (("customer", "add", "--name", "x", "--phone", "123"), "phones"),
    (("customer", "add", "--phone", "13912345678"), "a customer needs a name"),
    (("customer", "add", "--name", "x", "--tier", "gold"), "tier"),
    (("customer", "add", "--name", "x", "--email", "not-mail"), "emails[0]"),
    (("unit", "add", "SN 1"), "id"),
    (("unit", "add", "SN1", "--customer", "C12345678"), "customer"),
    (("unit", "add", "SN1", "--purchased", "2026-02-30"), "purchased"),
])
def test_bad_record_values_name_the_field_and_change_nothing(desk, run, args, said):
    before = commit_count(desk.root)
    result = run(*args)
    assert result.exit_code in (ExitCode.INVALID, ExitCode.NOT_FOUND), result.stderr
    assert said in result.stderr and result.stderr.count("\n") == 1
    assert commit_count(desk.root) == before


def test_a_second_unit_with_one_serial_is_refused(desk, run):
    assert run("unit", "add", "SN1", "--model", "X1").exit_code == 0
    result = run("unit", "add", "sn1", "--model", "X2")
    assert result.exit_code == ExitCode.INVALID
    assert "unit SN1 exists already" in result.stderr


def test_a_customer_file_edited_by_hand_into_an_invalid_state_is_named_by_file_line_and_field(
        desk, run):
    customer = added(run, *KEY)
    path = next(desk.root.glob(f"customers/*/{customer}.yaml"))
    text = path.read_text(encoding="utf-8").replace("- Zhang.Wei@HuaXing.cn",
                                                    "- not an address", 1)
    path.write_text(text, encoding="utf-8")
    commit_all(desk.root)
    result = run("customer", "show", customer)
    assert result.exit_code == ExitCode.TICKET_FILE
    line = text.splitlines().index("- not an address") + 1
    assert result.stderr.startswith(f"Error: {path.relative_to(desk.root)}:{line}: emails")
    assert run("customer", "edit", customer, "--region", "无锡").exit_code == \
        ExitCode.TICKET_FILE
    listed = run("customer", "list")
    assert listed.exit_code == ExitCode.TICKET_FILE
    assert f"{path.relative_to(desk.root)}:{line}: emails" in listed.stderr


def test_a_committed_hand_edit_of_a_customer_is_recorded_at_the_next_change(desk, run):
    customer = added(run, *KEY)
    path = next(desk.root.glob(f"customers/*/{customer}.yaml"))
    path.write_text(path.read_text(encoding="utf-8").replace("region: 苏州", "region: 无锡", 1),
                    encoding="utf-8")
    commit_all(desk.root)
    assert run("customer", "edit", customer, "--tier", "vip").exit_code == 0
    data = json.loads(run("customer", "show", customer, "--format", "json").stdout)
    assert [e["action"] for e in data["events"]] == ["create", "hand-edit", "edit"]
    assert data["region"] == "无锡" and data["tier"] == "vip"
    assert new(run, "--phone", "13912345678")["customer"]["region"] == "无锡"


def test_customers_list_filters_by_text_and_writes_csv_for_excel(desk, run):
    added(run, *KEY)
    added(run, "customer", "add", "--name", "李四", "--phone", "13800001111", "--region", "杭州")
    assert [c["name"] for c in json.loads(
        run("customer", "list", "苏州", "--format", "json").stdout)] == ["张伟"]
    csv = run("customer", "list", "--format", "csv")
    assert csv.stdout.startswith("\ufeffid,name,company,phones,region,tier\n")
    table = run("customer", "list").stdout
    assert "苏州华兴精密" in table and "李四" in table


def test_records_are_committed_one_change_each_and_merge_by_their_histories(desk, run):
    customer = added(run, *KEY)
    assert run("customer", "edit", customer, "--notes", "每年续签维保").exit_code == 0
    log = git(desk.root, "log", "--format=%s")
    assert f"customer {customer}: edit notes" in log and f"customer {customer}: add 张伟" in log
    attributes = (desk.root / ".gitattributes").read_text(encoding="utf-8")
    for pattern in ("customers/**/*.yaml", "units/**/*.yaml", "parts/*.yaml"):
        assert f"{pattern} merge=svcdesk" in attributes


def test_a_phone_two_customers_share_is_said_at_add_and_links_a_request_to_neither(desk, run):
    first = added(run, *KEY)
    second = run("customer", "add", "--name", "前台", "--company", "苏州华兴精密",
                 "--phone", "139 1234 5678")
    assert second.exit_code == 0
    assert f"13912345678 is also customer {first}'s" in second.stderr
    result = run("new", "--type", "inquiry", "--title", "t", "--description", "d",
                 "--phone", "13912345678", "--customer", "某人", "-q")
    assert result.exit_code == 0 and "the ticket is not linked" in result.stderr
    made = json.loads(run("show", result.stdout.strip(), "--format", "json").stdout)
    assert "id" not in made["customer"] and "tier" not in made["customer"]


def test_the_warranty_a_unit_gives_drives_a_classification_rule(make_desk, run):
    rules = make_desk().root / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "\nclassify:\n", "\nclassify:\n  - name: 保外收费\n    when: {fields: {product.warranty: out}}\n"
                        "    tags: [保外收费]\n    continue: true\n", 1), encoding="utf-8")
    commit_all(rules.parent)
    owner = added(run, *KEY)
    assert run("unit", "add", "SN9", "--model", "LP-404 激光打印机", "--customer", owner,
               "--purchased", "2024-01-01").exit_code == 0
    out = new(run, "--phone", "13912345678", "--serial", "SN9")
    assert out["product"]["warranty"] == "out" and "保外收费" in out["tags"]
    assert "保外收费" in [e for e in out["events"] if e["action"] == "classify"][0]["rule"]


def test_a_phone_corrected_later_by_edit_links_the_ticket_to_the_customer(desk, run, tmp_path,
                                                                          monkeypatch):
    import stat
    import sys

    owner = added(run, *KEY)
    made = new(run, "--phone", "13700000000", "--customer", "前台")
    assert "id" not in made["customer"]
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\np = sys.argv[1]\ntext = open(p, encoding='utf-8').read()\n"
                      "text = text.replace('13700000000', '13912345678')\n"
                      "open(p, 'w', encoding='utf-8').write(text)\n", encoding="utf-8")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    result = run("edit", made["id"])
    assert result.exit_code == 0, result.stderr
    edited = json.loads(run("show", made["id"], "--format", "json").stdout)
    assert edited["customer"]["id"] == owner and edited["customer"]["tier"] == "key"
    assert edited["events"][-1]["changes"]["customer.id"] == {"to": owner}


def test_new_says_which_customer_and_unit_it_recognised(desk, run):
    customer = added(run, *KEY)
    assert run("unit", "add", "SN1", "--model", "X1-Pro 笔记本", "--customer", customer,
               "--purchased", "2026-03-15").exit_code == 0
    result = run("new", "--type", "fault", "--title", "t", "--description", "d",
                 "--phone", "13912345678", "--serial", "SN1")
    assert result.exit_code == 0, result.stderr
    assert f"客户 {customer} 张伟（重点客户，苏州） · 设备 SN1 保内" in result.stdout
