"""Records beside tickets, without disk: keys, contacts, warranty, money, merging."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from svcdesk.base import fields as F
from svcdesk.base import model
from svcdesk.base.identity import new_ulid
from svcdesk.domain import records

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 5, 10, 0, tzinfo=TZ)


@pytest.mark.parametrize("written", ["13912345678", "+86 139 1234 5678", "139-1234-5678",
                                     "0086 13912345678", "(139) 1234 5678"])
def test_a_mobile_is_found_however_it_is_written(written):
    assert records.phone_key(written) == "13912345678"


def test_a_landline_keeps_its_area_code_and_extension():
    assert records.phone_key("0571-88886666") == "057188886666"
    assert records.phone_key("+86 571 8888 6666") == "057188886666"
    assert records.phone_key("0571-88886666 转 802") == "057188886666#802"


def test_lookups_never_match_part_of_a_number():
    keys = records.contact_keys({"phones": ["13912345678"], "emails": ["Zhang@Example.CN"]})
    assert keys == ["tel:13912345678", "mail:zhang@example.cn"]
    assert "tel:1391234567" not in keys and records.phone_key("12345") is None
    assert records.request_keys("1391234567", None) == ["tel:1391234567"]


def test_serials_are_filed_in_capitals_and_refuse_what_cannot_name_a_file():
    assert records.check_key("unit", " sn-x1-0001 ") == "SN-X1-0001"
    for bad in ("../etc", "SN 1", "a/b", "", "x" * 65, "SN."):
        with pytest.raises(records.RecordError):
            records.check_key("unit", bad)


def test_warranty_states_on_a_date():
    unit = {"purchased": date(2025, 1, 31), "warranty_end": date(2026, 1, 31),
            "extended_until": date(2027, 1, 31)}
    assert records.warranty(unit, date(2026, 1, 30)) == "in"
    assert records.warranty(unit, date(2026, 6, 1)) == "extended"
    assert records.warranty(unit, date(2027, 2, 1)) == "out"
    assert records.warranty({}, date(2026, 1, 1), 12) == "unknown"
    assert records.warranty({"purchased": date(2026, 1, 31)}, date(2026, 2, 28), 1) == "in"
    assert records.warranty_end(date(2026, 1, 31), 1) == date(2026, 3, 1)
    assert records.warranty_end(date(2025, 12, 31), 2) == date(2026, 3, 1)


@pytest.mark.parametrize("written, kept", [("120", "120.00"), ("86.5", "86.50"),
                                           ("¥1,234.50", "1234.50"), ("99.99元", "99.99")])
def test_money_is_decimal_fen(written, kept):
    assert F.dump(F.money(written)) == kept
    assert isinstance(F.money(written), Decimal)


@pytest.mark.parametrize("bad", ["1.234", "-5", "12,3.4.5", "abc", "1e3"])
def test_money_refuses_three_decimals_and_what_is_no_amount(bad):
    with pytest.raises(ValueError):
        F.money(bad)


def _customer_schema():
    return records.schema("customer", TZ, {"standard": "普通", "key": "重点"})


def test_a_customer_with_a_bad_phone_names_the_field():
    with pytest.raises(records.RecordError, match=r"customer C1: phones\[1\]"):
        records.check_values("customer", _customer_schema(),
                             {"name": "张伟", "phones": ["13912345678", "12"]}, "customer C1")
    with pytest.raises(records.RecordError, match=r"tier"):
        records.check_values("customer", _customer_schema(), {"tier": "gold"}, "customer C1")


def _part(schema, moves):
    part = records.create(schema, "P-100", new_ulid(AT), {"name": "定影组件"}, new_ulid(AT),
                          AT, "li.qiang")
    for i, (warehouse, qty) in enumerate(moves):
        part = records.move(schema, part, warehouse, qty, new_ulid(AT), AT + timedelta(
            minutes=i + 1), "li.qiang", "receive" if qty > 0 else "use")
    return part


def test_stock_is_the_sum_of_movements_and_two_clones_uses_add_up():
    schema = records.schema("part", TZ, warehouses={"main": "总仓", "suzhou": "苏州"})
    base = _part(schema, [("main", 1)])
    ours = records.move(schema, base, "main", -1, new_ulid(AT), AT + timedelta(hours=1),
                        "li.qiang", "use")
    theirs = records.move(schema, base, "main", -1, new_ulid(AT), AT + timedelta(hours=2),
                          "zhou.hao", "use")
    assert records.stock_of(ours.fields) == {"main": 0}
    merged = records.merge(schema, ours, theirs)
    assert records.stock_of(merged.fields) == {"main": -1}  # the last unit used twice: shown
    assert records.merge(schema, theirs, ours) == merged
    assert not model.hand_edits(merged)


def test_one_serial_added_in_two_clones_keeps_both_additions():
    schema = records.schema("unit", TZ)
    first = records.create(schema, "SN1", new_ulid(AT), {"model": "X1"}, new_ulid(AT), AT, "a")
    later = AT + timedelta(minutes=5)
    second = records.create(schema, "SN1", new_ulid(later), {"model": "X2"},
                            new_ulid(later), later, "b")
    merged = records.merge(schema, second, first)
    assert merged == records.merge(schema, first, second)
    assert merged.fields["model"] == "X2" and merged.fields["uid"] == first.fields["uid"]
    assert [e.action for e in merged.events] == ["create", "add-again"]
    assert merged.events[1].changes == {"model": ("X1", "X2")}
