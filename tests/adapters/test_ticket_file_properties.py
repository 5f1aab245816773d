"""A ticket written and read back is the same ticket, whatever its text holds (Chinese,
emoji beyond U+FFFF, YAML's own words and signs, lines, a phone or a serial that looks like a
number), checked by Hypothesis; and a CSV cell a spreadsheet would run as a formula never
leaves svcdesk as one."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shipped_rules

from svcdesk.adapters import store
from svcdesk.base import model
from svcdesk.base.errors import ValidationError
from svcdesk.base.identity import new_ulid
from svcdesk.cli.output import as_csv
from svcdesk.domain import history

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
RULES = shipped_rules()
PROPERTIES = settings(max_examples=80, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])

# letters of every script, emoji, signs YAML gives meaning to; no lone surrogates
CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"))
LINE = st.text(CHARS, min_size=1, max_size=60).filter(lambda t: t.strip())
TEXT = st.lists(st.text(CHARS, max_size=40), min_size=1, max_size=4).map("\n".join) \
    .filter(lambda t: t.strip())
TRICKY = st.sampled_from(["yes", "no", "null", "~", "0123", "1e3", "- 列表", "key: value",
                          "#注释", "'引号'", '"双引号"', "{a: 1}", "[1, 2]", "&anchor", "*alias",
                          "!!python/object", "| block", "> folded", "2026-11-23", "😀🚀", "\t"])


@PROPERTIES
@given(title=st.one_of(LINE, TRICKY), description=st.one_of(TEXT, TRICKY),
       name=st.one_of(LINE, TRICKY), serial=st.one_of(st.from_regex(r"0[0-9]{3,10}",
                                                                    fullmatch=True), LINE),
       notes=st.lists(st.one_of(TEXT, TRICKY), max_size=4),
       tags=st.lists(st.one_of(LINE, TRICKY), max_size=3, unique=True))
def test_a_ticket_written_and_read_back_is_the_same_ticket(title, description, name, serial,
                                                           notes, tags):
    given_values = {"type": "fault", "title": title.strip(), "description": description,
                    "customer.name": name.strip(), "customer.phone": "13800000000",
                    "product.serial": serial.strip(), "tags": [t.strip() for t in tags]}
    try:
        values = model.parse_values(RULES.schema, given_values)
    except (ValidationError, ValueError, model.FieldError):
        return  # refused at the door (a title too long, a tag with a comma...): fine
    ticket = model.create(RULES.schema, values, "SD-20261123-0001", new_ulid(AT),
                          new_ulid(AT), AT, "wang.fang", RULES.initial_status)
    for i, note in enumerate(notes):
        ticket = history.record(RULES, ticket, AT + timedelta(minutes=i + 1), "wang.fang",
                                "comment", {}, note=note, visibility="public")
    ticket = history.settle(RULES, ticket)
    data = store.encode_ticket(ticket)
    again = store.ticket_from_bytes(RULES.schema, data, "tickets/2026/11/SD-20261123-0001.yaml")
    assert again == ticket
    assert store.encode_ticket(again) == data  # and written again, byte for byte the same
    assert not model.hand_edits(again)  # the snapshot is its history's replay


@PROPERTIES
@given(st.lists(st.one_of(st.text(max_size=30), st.integers(), st.none(),
                          st.lists(st.text(max_size=10), max_size=3)), min_size=1, max_size=6))
def test_no_csv_cell_leaves_svcdesk_as_a_formula(cells):
    import csv
    import io

    columns = [f"c{i}" for i in range(len(cells))]
    text = as_csv([dict(zip(columns, cells))], columns, bom=False)
    row = list(csv.reader(io.StringIO(text, newline="")))[1]
    for given_cell, written in zip(cells, row):
        if isinstance(given_cell, (int, float)) and not isinstance(given_cell, bool):
            assert written == str(given_cell)
            continue
        assert written[:1] not in ("=", "+", "-", "@", "\t", "\r")
        plain = ", ".join(given_cell) if isinstance(given_cell, list) else \
            ("" if given_cell is None else given_cell)
        plain = plain.replace("\r\n", "\n").replace("\r", "\n")  # one line break, quoted
        assert written in (plain, "'" + plain)
