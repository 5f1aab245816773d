"""The canonical form's own reader (the fast path of load_plain) reads what libyaml reads, or
leaves the text to libyaml: for every ticket svcdesk writes, and for that text damaged at
random. libyaml's reader is in turn held to PyYAML's own (test_store)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shipped_rules

from svcdesk.adapters import canonical, store
from svcdesk.base import model
from svcdesk.base.identity import new_ulid
from svcdesk.domain import history

RULES = shipped_rules()
AT = datetime(2026, 12, 6, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
PROPERTIES = settings(max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])

CHARS = st.characters(blacklist_categories=("Cs", "Cc"))  # WORDS bring tabs, CR, NEL...
WORDS = st.sampled_from(["null", "~", "Null", "yes", "- x", "a: b", "#c", "'q'", '"d"', "|",
                         "|-", "> f", "{}", "[]", "&a", "*a", "!t", "%", "@", "`", ": ", " #",
                         "\\", "\\u00e9", "\\x41", "打印机卡纸", "😀", "\t", "\r\n", "\x85",
                         "\u2028", "\ufeff", " ", "\n", "\n\n", "-", "?", "2026-12-06"])
TEXT = st.lists(st.one_of(st.text(CHARS, max_size=12), WORDS), max_size=5).map("".join)
NAMES = st.from_regex(r"[a-z0-9_][a-z0-9_.\-]{0,8}", fullmatch=True)
KEYS = st.one_of(NAMES, NAMES, NAMES, st.sampled_from(["客户", "名称", "null", "on", "a b",
                                                       "-k", "k:", "1"]))
DATA = st.recursive(
    st.one_of(TEXT, st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25)
DOCUMENTS = st.dictionaries(KEYS, DATA, min_size=1, max_size=6)
EDITS = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(["insert", "delete",
                                                                    "replace"]), WORDS),
                 min_size=1, max_size=4)


def ticket_text(notes=("已电话联系客户，确认故障现象。",)) -> str:
    values = model.parse_values(RULES.schema, {
        "type": "fault", "title": "打印机卡纸，提示 E-13", "customer.name": "郑志强",
        "customer.phone": "13916654321", "product.serial": "SN368998583",
        "description": "第一行\n第二行：卡纸在出纸口\n", "tags": ["卡纸", "lp-404"]})
    ticket = model.create(RULES.schema, values, "SD-20261206-0001", new_ulid(AT),
                          new_ulid(AT), AT, "wang.fang", RULES.initial_status)
    for i, note in enumerate(notes):
        ticket = history.record(RULES, ticket, AT + timedelta(minutes=i + 1), "liu.yang",
                                "comment", {}, note=note, visibility="public")
    return store.encode_ticket(history.settle(RULES, ticket)).decode("utf-8")


def test_a_ticket_svcdesk_writes_is_read_by_the_fast_path_as_libyaml_reads_it():
    text = ticket_text(notes=("一行", "两行\n第二行", "带 # 号和 : 冒号", "- 像列表", "'引号'"))
    data = canonical.read(text)
    assert data is not None  # the fast path is taken, not left to libyaml
    assert data == store.load_by_libyaml(text)
    assert data["description"] == "第一行\n第二行：卡纸在出纸口\n"  # a literal block


@pytest.mark.parametrize("text", [
    "a: 1 # a comment\n", "a: {b: c}\n", "a: [b]\n", "a: &x b\nc: *x\n", "a: !!str b\n",
    "a:\tb\n", "a: b\r\n", "a: b\nb: c\na: d\n", "a: b\n  c\n", "a: |+\n  b\n\n",
    "a: >\n  b\n", "--- \na: b\n", "a: b", "a: \"\\x41\"\n", "a: \"\\ud83d\\ude00\"\n",
    "\ufeffa: b\n", "a: b\u2028c\n", "- a\n- b\n", "null: a\n", "a: b \n", "? a\n: b\n",
    "a:\n  - b\n c: d\n", "a: 'b\n  c'\n",
])
def test_a_hand_edit_outside_the_form_is_left_to_libyaml(text):
    assert canonical.read(text) is None
    try:
        expected = store.load_by_libyaml(text)
    except Exception as exc:  # the error is libyaml's, with its line
        with pytest.raises(type(exc)):
            store.load_plain(text)
    else:
        assert store.load_plain(text) == expected


@settings(PROPERTIES)
@given(DOCUMENTS)
def test_whatever_svcdesk_writes_reads_back_as_libyaml_reads_it(data):
    text = store.dump_yaml(data)
    read = canonical.read(text)
    assert read is None or read == store.load_by_libyaml(text) == data


@settings(PROPERTIES)
@given(EDITS)
def test_a_damaged_ticket_file_reads_as_libyaml_reads_it_or_is_left_to_libyaml(edits):
    text = ticket_text()
    for at, how, piece in edits:
        at %= len(text) + 1
        if how == "insert":
            text = text[:at] + piece + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + len(piece):]
        else:
            text = text[:at] + piece + text[at + len(piece):]
    read = canonical.read(text)
    if read is not None:  # libyaml must agree, and not refuse it
        assert read == store.load_by_libyaml(text)
