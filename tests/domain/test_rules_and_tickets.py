"""The domain with no disk: the ticket history under the desk's schema, and the rules."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from svcdesk.base import model
from svcdesk.base.errors import RulesError
from svcdesk.base.identity import new_ulid
from svcdesk.domain import records
from svcdesk.domain.rules import compile_rules

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 22, 10, 3, tzinfo=TZ)


@pytest.fixture(scope="module")
def rules():
    import yaml
    from pathlib import Path

    return compile_rules(yaml.safe_load(Path(__file__).parents[2].joinpath("rules.yaml")
                                        .read_text(encoding="utf-8")))


# ---- tickets and their history -----------------------------------------------------------------

def make_ticket(rules, **extra):
    values = model.parse_values(rules.schema, {
        "title": "打印机卡纸", "type": "fault", "customer.name": "刘建国",
        "customer.phone": "13706751234", "product.model": "LP-404",
        "product.purchased": "2026-05-20", "description": "打印到第二张就卡纸", **extra})
    return model.create(rules.schema, values, "SD-20261122-0001", new_ulid(AT), new_ulid(AT),
                        AT, "wang.fang", "new")


def test_a_new_ticket_is_its_create_event_replayed(rules):
    ticket = make_ticket(rules)
    assert ticket.fields == model.replay(ticket.events)
    assert ticket.fields["created"] == ticket.fields["updated"] == AT
    assert ticket.events[0].action == "create" and ticket.fields["status"] == "new"
    assert list(ticket.fields)[:4] == ["id", "uid", "title", "type"]


def test_a_change_records_old_and_new_values_and_keeps_snapshot_equal_to_replay(rules):
    ticket = make_ticket(rules)
    later = AT + timedelta(hours=1)
    new_fields = model.with_fields(ticket, **{"customer.phone": "13900000000",
                                              "product.serial": "SN1"})
    changed, event = model.change(rules.schema, ticket, new_fields, new_ulid(later), later,
                                  "li.qiang", "edit")
    assert event.changes == {"customer.phone": ("13706751234", "13900000000"),
                             "product.serial": (None, "SN1")}
    assert changed.fields == model.replay(changed.events)
    assert changed.fields["updated"] == later and changed.fields["created"] == AT


def test_hand_edits_of_the_snapshot_are_detected(rules):
    ticket = make_ticket(rules)
    edited = model.Ticket(model.with_fields(ticket, title="改过的标题"), ticket.events)
    assert model.hand_edits(edited) == {"title": ("打印机卡纸", "改过的标题")}


def test_plain_data_round_trips_through_the_schema(rules):
    ticket = make_ticket(rules, tags="屏幕,电池", occurred="2026-11-20T08:00:00")
    plain = model.to_plain(ticket)
    assert plain["product"]["purchased"] == "2026-05-20"
    assert all(isinstance(v, str) for v in plain["customer"].values())
    again = model.from_plain(rules.schema, plain)
    assert again == ticket


def test_unknown_fields_and_managed_fields_are_refused_on_input(rules):
    with pytest.raises(model.FieldError, match="did you mean customer.phone"):
        model.parse_values(rules.schema, {"customer.phon": "13800000000"})
    with pytest.raises(model.FieldError, match="kept by svcdesk"):
        model.parse_values(rules.schema, {"status": "closed"})


def test_required_fields_depend_on_the_type(rules):
    values = {"type": "invoice", "title": "开发票", "customer": {"company": "某公司"}}
    assert model.missing_required(rules.types["invoice"].required, values) == [
        "product.order_no", "invoice.title", "invoice.tax_id", "invoice.amount"]
    assert "product.purchased" in rules.types["fault"].required


def test_warranty_is_in_until_the_months_run_out():
    def state(bought, months, on):
        return records.warranty({"purchased": bought}, on, months)

    assert state(date(2025, 11, 23), 12, date(2026, 11, 22)) == "in"
    assert state(date(2025, 11, 22), 12, date(2026, 11, 22)) == "out"
    assert state(date(2026, 1, 31), 1, date(2026, 2, 28)) == "in"


# ---- rules ---------------------------------------------------------------------------------------

def test_the_default_rules_name_the_six_types_and_four_priorities(rules):
    assert list(rules.types) == ["fault", "inquiry", "complaint", "maintenance", "return",
                                 "invoice"]
    assert rules.types["fault"].label == "故障报修"
    assert list(rules.priorities) == ["P1", "P2", "P3", "P4"]
    assert rules.label("priorities", "P1") == "特急"
    assert rules.initial_status == "new" and "closed" not in rules.open_statuses()


def base_rules():
    return {"desk": {"name": "d", "prefix": "SD", "timezone": "Asia/Shanghai"},
            "types": {"fault": {"label": "故障报修"}}, "priorities": {"P1": "特急"},
            "statuses": {"new": {"label": "已受理"}}}


@pytest.mark.parametrize("patch, path, message", [
    (lambda r: r["desk"].update(colour="red"), ("desk", "colour"), "unknown key"),
    (lambda r: r["desk"].update(timezone="Mars/Base"), ("desk", "timezone"), "time zone"),
    (lambda r: r["desk"].update(prefix="sd-1"), ("desk", "prefix"), "does not match"),
    (lambda r: r["types"]["fault"].update(required=["customer.shoe"]),
     ("types", "fault", "required", 0), "not a field"),
    (lambda r: r.update(teams={"hw": {"label": "硬件"}}), ("teams", "hw"), "no agents"),
    (lambda r: r.update(fields={"title": {"type": "string", "label": "x"}}),
     ("fields", "title"), "core field"),
    (lambda r: r.update(fields={"x": {"type": "float", "label": "x"}}),
     ("fields", "x", "type"), "not allowed"),
])
def test_bad_rules_name_the_key_and_say_what_is_allowed(patch, path, message):
    data = base_rules()
    patch(data)
    with pytest.raises(RulesError, match=message) as info:
        compile_rules(data)
    assert info.value.path == path
