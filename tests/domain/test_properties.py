"""Properties that must hold for any input, checked by Hypothesis: a merge of two clones'
histories (the same whichever side merges, a second merge changes nothing, no event lost),
the working-time calendar (adding a duration then measuring it gives it back), ticket IDs
(a number formatted then parsed is itself; anything else is a ValueError, never a crash),
renumbering (each clash a free number of its day, none given twice).
No disk: the examples are made in memory."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shipped_rules

from svcdesk.base import model
from svcdesk.base.identity import format_number, new_ulid, parse_number, parse_ref, renumbering
from svcdesk.domain import history, merge

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
RULES = shipped_rules()
PROPERTIES = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])

# ---- merging two clones' histories ----------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
STEP = st.one_of(
    st.tuples(st.just("comment"), TEXT),
    st.tuples(st.just("title"), TEXT.map(lambda t: t.strip() or "标题")),
    st.tuples(st.just("tags"), st.lists(st.sampled_from(["急", "回访", "vip", "保外"]),
                                        min_size=1, max_size=3, unique=True)),
    st.tuples(st.just("priority"), st.sampled_from(["P1", "P2", "P3", "P4"])),
)
SIDE = st.lists(st.tuples(st.integers(1, 600), STEP), max_size=6)


def _base():
    values = model.parse_values(RULES.schema, {
        "type": "fault", "title": "打印机卡纸", "customer.name": "刘建国",
        "customer.phone": "13800000000", "description": "卡纸", "priority": "P3"})
    ticket = model.create(RULES.schema, values, "SD-20261123-0001", new_ulid(AT),
                          new_ulid(AT), AT, "wang.fang", RULES.initial_status)
    return history.settle(RULES, ticket)


BASE = _base()


def _worked(ticket, steps, by):
    for minutes, (kind, value) in sorted(steps, key=lambda s: s[0]):
        at = AT + timedelta(minutes=minutes)
        if kind == "comment":
            ticket = history.record(RULES, ticket, at, by, "comment", {}, note=value,
                                    visibility="public")
        elif kind == "title":
            ticket = history.record(RULES, ticket, at, by, "edit", {"title": value.strip()})
        elif kind == "tags":
            ticket = history.record(RULES, ticket, at, by, "edit", {"tags": value})
        else:
            ticket = history.record(RULES, ticket, at, by, "priority", {"priority": value},
                                    note="调整")
        ticket = history.settle(RULES, ticket)
    return ticket


@PROPERTIES
@given(ours=SIDE, theirs=SIDE)
def test_a_merge_is_the_same_whichever_side_merges_and_loses_no_event(ours, theirs):
    a, b = _worked(BASE, ours, "wang.fang"), _worked(BASE, theirs, "li.qiang")
    ab, ba = merge.merge(RULES, a, b), merge.merge(RULES, b, a)
    assert ab.events == ba.events and ab.fields == ba.fields
    ids = {e.id for e in ab.events}
    assert {e.id for e in a.events} | {e.id for e in b.events} <= ids
    for side in (a, b):  # each side's order is kept
        order = [e.id for e in ab.events if e.id in {x.id for x in side.events}]
        assert order == [e.id for e in side.events]
    assert ab.fields == model.replay(ab.events) | ({"sla": ab.fields["sla"]}
                                                   if "sla" in ab.fields else {})


@PROPERTIES
@given(ours=SIDE, theirs=SIDE)
def test_merging_again_changes_nothing(ours, theirs):
    a, b = _worked(BASE, ours, "wang.fang"), _worked(BASE, theirs, "li.qiang")
    once = merge.merge(RULES, a, b)
    assert merge.merge(RULES, once, b) == once
    assert merge.merge(RULES, once, once) == once
    assert merge.merge(RULES, a, a).events == a.events


# ---- the working-time calendar ----------------------------------------------------------------

STANDARD = RULES.service.calendars["standard"]
MOMENT = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20),
                      timezones=st.just(TZ))


@PROPERTIES
@given(start=MOMENT, minutes=st.integers(0, 60 * 8 * 30))
def test_adding_working_minutes_then_measuring_them_gives_them_back(start, minutes):
    end = STANDARD.add(start, minutes)
    assert end >= start  # (a due time is a whole second: Hypothesis found one a moment early)
    assert STANDARD.minutes(start, end) == pytest.approx(minutes, abs=1 / 60)


@PROPERTIES
@given(start=MOMENT, first=st.integers(0, 4000), second=st.integers(0, 4000))
def test_working_time_adds_up_piece_by_piece(start, first, second):
    middle = STANDARD.add(start, first)
    assert STANDARD.minutes(start, STANDARD.add(middle, second)) == pytest.approx(
        first + second, abs=2 / 60)


@PROPERTIES
@given(start=MOMENT, hours=st.integers(0, 24 * 40))
def test_measured_working_time_never_exceeds_the_wall_clock(start, hours):
    end = start + timedelta(hours=hours)
    assert 0 <= STANDARD.minutes(start, end) <= hours * 60 + 1e-6


# ---- ticket numbers and references -------------------------------------------------------------

@PROPERTIES
@given(prefix=st.from_regex(r"[A-Z][A-Z0-9]{0,7}", fullmatch=True),
       day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
       seq=st.integers(1, 999_999))
def test_a_number_formatted_then_parsed_is_itself(prefix, day, seq):
    number = format_number(prefix, day, seq)
    assert parse_number(number) == (prefix, day, seq)
    ref = parse_ref(number.lower())
    assert ref.is_full and ref.matches(number) and parse_ref(str(ref)) == ref
    assert parse_ref(f"{day:%m%d}-{seq}").matches(number)  # a unique end of it


@PROPERTIES
@given(st.text(max_size=40))
def test_anything_else_typed_as_an_id_is_refused_as_a_value_error(text):
    try:
        ref = parse_ref(text)
    except ValueError:
        return
    assert str(ref)  # what parses is a reference that prints


# ---- renumbering what another clone numbered first ---------------------------------------------

DAYS = [date(2026, 11, 22), date(2026, 11, 23), date(2026, 12, 1)]
NUMBERS = st.builds(format_number, st.sampled_from(["SD", "RMA"]), st.sampled_from(DAYS),
                    st.integers(1, 40))


@PROPERTIES
@given(taken=st.sets(NUMBERS, max_size=30), data=st.data())
def test_renumbering_gives_each_clash_a_free_number_of_its_day_and_none_twice(taken, data):
    clashing = data.draw(st.lists(st.sampled_from(sorted(taken)), unique=True)
                         if taken else st.just([]))
    pairs = renumbering(clashing, taken)
    assert [old for old, _ in pairs] == clashing  # each, in order
    new = [n for _, n in pairs]
    assert len(set(new)) == len(new) and not set(new) & taken  # free, and none twice
    for old, n in pairs:
        (prefix, day, _), (prefix2, day2, seq) = parse_number(old), parse_number(n)
        assert (prefix, day) == (prefix2, day2)  # the same day and prefix
        assert all(parse_number(t)[2] < seq for t in taken
                   if parse_number(t)[:2] == (prefix, day))  # past all that were given
    assert renumbering(clashing, taken) == pairs  # both clones would choose alike
