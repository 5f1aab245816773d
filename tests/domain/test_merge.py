"""Two clones' versions of one ticket merged (domain.merge): the union of both histories,
each side's order kept, the later change winning, alike in every clone. No disk, no git."""

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from svcdesk.base import model
from svcdesk.base.errors import MergeError
from svcdesk.base.identity import new_ulid
from svcdesk.domain import history, merge, sla
from svcdesk.domain.rules import compile_rules

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)  # a Monday


@pytest.fixture(scope="module")
def rules():
    text = Path(__file__).parents[2].joinpath("rules.yaml").read_text(encoding="utf-8")
    return compile_rules(yaml.safe_load(text))


@pytest.fixture()
def base(rules):
    """A ticket as both clones had it before they went their own ways."""
    values = model.parse_values(rules.schema, {
        "type": "fault", "title": "打印机卡纸", "customer.name": "刘建国",
        "customer.phone": "13800000000", "product.model": "LP-404",
        "product.purchased": "2026-05-20", "description": "卡纸", "team": "hardware",
        "priority": "P2"})
    ticket = model.create(rules.schema, values, "SD-20261207-0001", new_ulid(AT), new_ulid(AT),
                          AT, "wang.fang", rules.initial_status)
    ticket = history.transition(rules, ticket, AT, "wang.fang", "assign",
                                {"assignee": "liu.yang"})
    return history.settle(rules, ticket)


def step(rules, ticket, minutes, by, action, updates=None, **event):
    at = AT + timedelta(minutes=minutes)
    if action in rules.transitions:
        ticket = history.transition(rules, ticket, at, by, action, updates or {}, **event)
    else:
        ticket = history.record(rules, ticket, at, by, action, updates or {}, **event)
    return history.settle(rules, ticket)


def test_comments_from_both_clones_are_all_kept_in_time_order(rules, base):
    ours = step(rules, step(rules, base, 10, "liu.yang", "comment", note="我来看看",
                            visibility="public"), 30, "liu.yang", "start")
    theirs = step(rules, base, 20, "wang.fang", "comment", note="客户又来电催促",
                  visibility="internal")
    merged = merge.merge(rules, ours, theirs)
    assert [e.note or e.action for e in merged.events[2:]] == ["我来看看", "客户又来电催促",
                                                                 "start"]
    assert merged.fields["status"] == "in_progress"
    assert model.hand_edits(merged) == {} and merge.conflicts(merged.events) == []


def test_a_merge_comes_out_alike_whichever_side_merges_and_again_changes_nothing(rules, base):
    ours = step(rules, base, 10, "liu.yang", "start")
    theirs = step(rules, base, 20, "he.wei", "priority", {"priority": "P1"}, note="停产")
    merged = merge.merge(rules, ours, theirs)
    assert merge.merge(rules, theirs, ours) == merged
    assert merge.merge(rules, merged, theirs) == merged
    assert merge.merge(rules, merged, merged) == merged


def test_a_field_changed_on_both_sides_ends_with_the_later_change_and_keeps_both(rules, base):
    ours = step(rules, base, 10, "he.wei", "priority", {"priority": "P1"}, note="停产")
    theirs = step(rules, base, 20, "liu.yang", "priority", {"priority": "P3"}, note="可以等")
    merged = merge.merge(rules, ours, theirs)
    assert merged.fields["priority"] == "P3"
    changes = [e.changes["priority"] for e in merged.events if "priority" in e.changes
               and e.action == "priority"]
    assert changes == [("P2", "P1"), ("P2", "P3")]
    found = merge.conflicts(merged.events)
    assert [(c.path, c.made_on, c.found, c.event.by) for c in found] == [
        ("priority", "P2", "P1", "liu.yang")]
    assert merged.fields["sla"] == sla.summary(merged.events, merged.fields, rules.service,
                                               merged.events[-1].at)


def test_a_time_rule_step_both_clones_took_is_kept_once(rules, base):
    def breach(ticket, minutes):
        return step(rules, ticket, minutes, sla.SYSTEM, "sla", rule="breach: response",
                    note="response target missed", visibility="internal")

    merged = merge.merge(rules, breach(base, 200), breach(base, 205))
    taken = [e for e in merged.events if e.rule == "breach: response"]
    assert len(taken) == 1 and taken[0].at == AT + timedelta(minutes=200)


def test_a_hand_edit_on_one_side_survives_the_merge_alike_in_both_orders(rules, base):
    edited = model.Ticket(dict(base.fields, title="打印机卡纸（三楼）"), base.events)
    theirs = step(rules, base, 20, "liu.yang", "start")
    merged = merge.merge(rules, edited, theirs)
    assert merged.fields["title"] == "打印机卡纸（三楼）" and merged.fields["status"] == \
        "in_progress"
    assert merge.merge(rules, theirs, edited) == merged


def test_two_different_tickets_are_never_merged(rules, base):
    other = model.Ticket(dict(base.fields, uid="01KZZZZZZZZZZZZZZZZZZZZZZZ"),
                         (replace(base.events[0], fields=dict(
                             base.events[0].fields, uid="01KZZZZZZZZZZZZZZZZZZZZZZZ")),)
                         + base.events[1:])
    with pytest.raises(MergeError, match="two different tickets"):
        merge.merge(rules, base, other)


def test_items_added_to_a_list_on_both_sides_are_all_kept_and_a_removal_stays_removed(
        rules, base):
    tagged = step(rules, base, 5, "wang.fang", "edit", {"tags": ["vip", "复购"]})
    ours = step(rules, tagged, 10, "liu.yang", "edit", {"tags": ["vip", "复购", "上门"]})
    theirs = step(rules, tagged, 20, "wang.fang", "edit", {"tags": ["复购", "催单"]})
    merged = merge.merge(rules, ours, theirs)
    assert merged.fields["tags"] == ["复购", "上门", "催单"]
    assert merge.merge(rules, theirs, ours).fields["tags"] == ["复购", "上门", "催单"]
    assert model.hand_edits(merged) == {} and merge.conflicts(merged.events) == []
