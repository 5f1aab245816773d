"""Ticket files: readable YAML that keeps every byte of what people typed."""

import random

import pytest

from svcdesk.adapters import store
from svcdesk.base.errors import TicketFileError

from conftest import FAULT, git

NASTY = [
    "电脑无法开机故障报修", "客户说：\u201c屏幕闪烁\u201d，#3 号机", "emoji 😀🔧🖨️ 👍🏽",
    "שלום עולם مرحبا بالعالم", "mixed עברית and English", "null", "~", "", " leading space",
    "trailing space ", "- looks like a list", "key: value", "'quoted'", '"double"', "@at",
    "`tick`", "100", "0x1F", "2026-11-22", "yes", "on", "[1, 2]", "{a: b}", "a\tb",
    "line one\nline two\n", "ends without newline\nsecond", "windows\r\nline", "\u2028sep",
    "tab\tand trailing \nline", "\u00a0nbsp", "\x85nel", "零宽\u200b空格", "\ufeffbom",
]


@pytest.mark.parametrize("text", NASTY)
def test_text_round_trips_byte_for_byte(text):
    data = {"title": text, "nested": {"description": text}, "tags": [text]}
    assert store.parse_yaml(store.dump_yaml(data)) == data


def test_random_unicode_round_trips():
    rng = random.Random(5)
    alphabet = "abc 中文測試\n\t:#-'\"😀\u05d0\u0627\\/{}[]!&*%@`|>"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30)))
        assert store.parse_yaml(store.dump_yaml({"t": text})) == {"t": text}, repr(text)


def test_chinese_is_written_as_is_and_multiline_text_as_a_block():
    out = store.dump_yaml({"title": "打印机卡纸", "description": "第一行\n第二行"})
    assert "打印机卡纸" in out and "\\u" not in out
    assert "description: |-\n  第一行\n  第二行" in out


def test_numbers_that_are_text_stay_unquoted_and_read_back_as_text():
    out = store.dump_yaml({"phone": "13800000000", "serial": "00123"})
    assert out == "phone: 13800000000\nserial: 00123\n"
    assert store.parse_yaml(out) == {"phone": "13800000000", "serial": "00123"}


def test_a_ticket_file_round_trips_through_the_desk_schema(desk, run):
    assert run(*FAULT, "--set", "tags=屏幕,电池", "-q").exit_code == 0
    path = desk.root / "tickets/2026/11/SD-20261122-0001.yaml"
    ticket, raw = store.read_ticket(desk.root, desk.rules.schema, path.relative_to(desk.root)
                                    .as_posix())
    assert store.encode_ticket(ticket) == raw
    assert ticket.fields["customer"]["phone"] == "13800000000"


def test_malformed_yaml_names_the_file_and_line(desk):
    rel = "tickets/2026/11/SD-20261122-0001.yaml"
    (desk.root / "tickets/2026/11").mkdir(parents=True)
    (desk.root / rel).write_text("id: SD-20261122-0001\ntitle: [unclosed\nevents: []\n",
                                 encoding="utf-8")
    with pytest.raises(TicketFileError) as info:
        store.read_ticket(desk.root, desk.rules.schema, rel)
    assert str(info.value).startswith(rel + ":3: not valid YAML")


def edited_ticket(desk, run, old: str, new: str) -> str:
    """Make a ticket, replace ``old`` with ``new`` in its file; return its relative path."""
    run(*FAULT, "--no-auto")
    rel = "tickets/2026/11/SD-20261122-0001.yaml"
    text = (desk.root / rel).read_text(encoding="utf-8")
    (desk.root / rel).write_text(text.replace(old, new, 1), encoding="utf-8")
    return rel


def test_a_repeated_key_is_an_error_not_a_silent_overwrite(desk, run):
    rel = edited_ticket(desk, run, "type: fault\n", "type: fault\ntitle: 二号\n")
    with pytest.raises(TicketFileError, match=r":5: not valid YAML: duplicate key 'title'"):
        store.read_ticket(desk.root, desk.rules.schema, rel)


def test_an_unknown_field_names_file_line_and_key(desk, run):
    rel = edited_ticket(desk, run, "customer:\n", "colour: red\ncustomer:\n")
    with pytest.raises(TicketFileError, match=r"SD-20261122-0001.yaml:8: colour: unknown field"):
        store.read_ticket(desk.root, desk.rules.schema, rel)


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "a.yaml"
    store.write_atomic(target, "一".encode())
    store.write_atomic(target, "二".encode())
    assert target.read_text(encoding="utf-8") == "二"
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]


def test_the_desk_file_layout(desk, run):
    run(*FAULT)
    assert store.ticket_relpath("SD-20261122-0001") == "tickets/2026/11/SD-20261122-0001.yaml"
    assert list(store.ticket_files(desk.root)) == ["tickets/2026/11/SD-20261122-0001.yaml"]
    assert "SD-20261122-0001.yaml" in git(desk.root, "ls-files", "tickets")


# ---- the event-built loader agrees with PyYAML -----------------------------------------------

class _Reference:
    """PyYAML's own composer and generic constructor with a null-only resolver."""

    @staticmethod
    def load(text):
        import yaml
        from yaml.constructor import BaseConstructor

        parser = getattr(yaml, "CParser", None) or __import__("yaml.cyaml").cyaml.CParser

        class Loader(parser, BaseConstructor, store._TextResolver):
            def __init__(self, stream):
                parser.__init__(self, stream)
                BaseConstructor.__init__(self)
                store._TextResolver.__init__(self)

        Loader.add_constructor("tag:yaml.org,2002:null", lambda loader, node: None)
        return yaml.load(text, Loader=Loader)


TRICKY_DOCUMENTS = [
    "", "~", "plain", "a: 1\nb: [x, y, {c: d}]\n", "a:\nb: ~\nc: null\nd: Null\ne: ''\n",
    "a: !!null x\nb: !!str null\nc: !!int 3\nd: ! null\n", "- a\n- - b\n  - c\n- {}\n- []\n",
    "a: &x [1, 2]\nb: *x\nc: &y {k: v}\nd: *y\n", "? complex\n: value\n", "<<: {a: b}\nc: d\n",
    "a: |\n  line one\n  line two\nb: >\n  folded\n  text\n", "'quoted: key': \"v\\tw\"\n",
    "中文: 打印机卡纸\nemoji: 😀\n", "--- a\n", "%YAML 1.1\n---\nx: y\n", "a: 1 # comment\n",
    "null: x\n~: y\n",
]


@pytest.mark.parametrize("text", TRICKY_DOCUMENTS)
def test_ticket_loading_gives_what_pyyaml_gives(text):
    assert store.parse_yaml(text) == _Reference.load(text)


@pytest.mark.parametrize("text,problem", [
    ("a: 1\na: 2\n", "duplicate key 'a'"), ("[a]: 1\n", "unhashable"),
    ("a: *nowhere\n", "undefined alias"), ("a: &r [*r]\n", "recursive"),
    ("--- a\n--- b\n", "single document"), ("a: [1\n", "expected"),
])
def test_ticket_loading_refuses_what_it_cannot_keep(text, problem):
    import yaml

    with pytest.raises(yaml.YAMLError) as caught:
        store.parse_yaml(text)
    assert problem in str(caught.value)
    assert store.yaml_error_line(caught.value) is not None


def test_sample_tickets_load_as_pyyaml_loads_them(make_desk):
    desk = make_desk(sample=True)
    for path in store.ticket_files(desk.root):
        text = (desk.root / path).read_text(encoding="utf-8")
        assert store.parse_yaml(text) == _Reference.load(text), path


