"""The base values with no disk: ticket numbers and references, ULIDs, field types."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from svcdesk.base import fields as F
from svcdesk.base.identity import format_number, new_ulid, parse_number, parse_ref

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 22, 10, 3, tzinfo=TZ)


# ---- identity -----------------------------------------------------------------------------

def test_ulids_are_26_crockford_characters_and_increase_at_a_pinned_time():
    ids = [new_ulid(AT) for _ in range(50)]
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 50


def test_ticket_numbers_format_and_parse_back():
    number = format_number("SD", date(2026, 11, 22), 3)
    assert number == "SD-20261122-0003"
    assert parse_number(number) == ("SD", date(2026, 11, 22), 3)


@pytest.mark.parametrize("text", ["SD-20261122-0003", "sd-20261122-0003", "20261122-3",
                                  "1122-3", "20261122-0003"])
def test_references_match_case_insensitively_and_by_unique_suffix(text):
    assert parse_ref(text).matches("SD-20261122-0003")
    assert not parse_ref(text).matches("SD-20261122-0004")


@pytest.mark.parametrize("text", ["../../etc/passwd", "-rf", "", "SD-2026-11-22", "SD/20261122-1",
                                  "SD-20261399-0001", "tickets/2026/11/x", "SD-20261122-0001.yaml"])
def test_malformed_references_are_refused(text):
    with pytest.raises(ValueError):
        parse_ref(text)


# ---- field types ---------------------------------------------------------------------------

def spec(kind, **kw):
    return F.FieldSpec("f", kind, "字段", **kw)


@pytest.mark.parametrize("value", ["13800000000", "0571-88886666", "+86 138 0000 0000",
                                   "400-820-8820", "+852 2345 6789", "0512-62881234转8001"])
def test_real_phone_numbers_are_accepted(value):
    assert F.parse(spec("phone"), value, TZ) == value


@pytest.mark.parametrize("value", ["12345678901", "abc", "138-0000", "1380000000a", "+86 12000000000"])
def test_bad_phone_numbers_are_refused(value):
    with pytest.raises(ValueError):
        F.parse(spec("phone"), value, TZ)


def test_email_and_date_checks():
    assert F.parse(spec("email"), "li.na@例子.cn", TZ) == "li.na@例子.cn"
    assert F.parse(spec("email"), "wang-fang+rma@service.example-co.com", TZ)
    for bad in ("li.na", "a@b", "a b@c.cn", "x@y.com\nBcc: z@w.com", "a@-b.cn", "a@b..cn",
                "a@b.cn.", "<a>@b.cn", "a@b_c.cn", "a@@b.cn", "a@b.c😀"):
        with pytest.raises(ValueError):
            F.parse(spec("email"), bad, TZ)
    assert F.parse(spec("date"), "2026/3/5", TZ) == date(2026, 3, 5)
    assert F.parse(spec("date"), "2026年3月5日", TZ) == date(2026, 3, 5)
    for bad in ("2026-02-30", "next monday", "20260305"):
        with pytest.raises(ValueError):
            F.parse(spec("date"), bad, TZ)


def test_enums_take_a_key_or_its_label_and_integers_their_bounds():
    kind = spec("enum", choices={"fault": "故障报修", "inquiry": "咨询"})
    assert F.parse(kind, "故障报修", TZ) == "fault"
    assert F.parse(kind, "FAULT", TZ) == "fault"
    with pytest.raises(ValueError, match="one of fault"):
        F.parse(kind, "repair", TZ)
    assert F.parse(kind, "repair", TZ, strict=False) == "repair"
    csat = spec("integer", minimum=1, maximum=5)
    assert F.parse(csat, "5", TZ) == 5
    with pytest.raises(ValueError, match="out of range"):
        F.parse(csat, "6", TZ)


def test_single_line_fields_refuse_line_breaks_that_could_inject_headers():
    with pytest.raises(ValueError, match="single line"):
        F.parse(spec("string"), "标题\r\nBcc: x@y.com", TZ)


def test_lists_split_on_chinese_and_ascii_commas():
    assert F.parse(spec("list"), "屏幕,电池，键盘、 主板", TZ) == ["屏幕", "电池", "键盘", "主板"]


def test_encoded_words_are_decoded_and_a_hidden_line_break_refused():
    """A name given as RFC 2047 encoded words reaches no mail header undecoded, where a
    mail program would decode a hidden CR/LF into a header of its own."""
    import base64

    def word(text):
        return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="

    assert F.parse(spec("string"), word("张伟"), TZ) == "张伟"
    assert F.parse(spec("string"), f"{word('张')} {word('伟')} 先生", TZ) == "张伟 先生"
    with pytest.raises(ValueError, match="single line"):
        F.parse(spec("string"), word("张伟\r\nBcc: evil@example.com"), TZ)
    assert F.parse(spec("string"), "=?not an encoded word", TZ) == "=?not an encoded word"


# ---- values read from files, typed once per text ----------------------------------------------

def test_a_value_read_again_is_typed_by_its_own_field_whatever_was_read_before():
    from svcdesk.base import model

    status = F.FieldSpec("status", "enum", "状态", choices={"closed": "已关闭"})
    title = F.FieldSpec("title", "string", "标题")
    labels = F.FieldSpec("status", "enum", "状态", choices={"done": "已关闭"})
    for _ in range(2):  # the second round comes from the memo
        assert model._as_read(status, "已关闭", TZ) == "closed"
        assert model._as_read(title, "已关闭", TZ) == "已关闭"
        assert model._as_read(labels, "已关闭", TZ) == "done"
    tags = F.FieldSpec("tags", "list", "标签")
    first = model._as_read(tags, "a, b", TZ)
    first.append("changed")
    assert model._as_read(tags, "a, b", TZ) == ["a", "b"]  # lists are not shared


def test_the_memo_of_values_read_stays_bounded():
    from svcdesk.base import model

    title = F.FieldSpec("title", "string", "标题")
    for i in range(model._READ_MOST + 10):
        model._as_read(title, f"标题 {i}", TZ)
    assert len(model._READ) <= model._READ_MOST
