"""The service-level clocks when the policy changes under them (domain.sla): a raise
shortens what is left from then on, never the past, and the escalation ladder counts its
steps against the target that was missed. Rules and events in, clocks out; no disk, no git."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from svcdesk.base import model
from svcdesk.base.identity import new_ulid
from svcdesk.domain import history, sla
from svcdesk.domain.rules import compile_rules

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def rules():
    text = Path(__file__).parents[2].joinpath("rules.yaml").read_text(encoding="utf-8")
    return compile_rules(yaml.safe_load(text))


def urgent(rules, **extra):
    """A P2 hardware ticket made on Monday at 10:00: respond in 2 working hours (due 12:00),
    resolve in 2 working days (960 minutes, due Wednesday 10:00)."""
    values = model.parse_values(rules.schema, {
        "type": "fault", "title": "打印机卡纸", "customer.name": "刘建国",
        "customer.phone": "13800000000", "product.model": "LP-404",
        "product.purchased": "2026-05-20", "description": "卡纸", "team": "hardware",
        "priority": "P2", **extra})
    ticket = model.create(rules.schema, values, "SD-20261123-0001", new_ulid(MONDAY_10),
                          new_ulid(MONDAY_10), MONDAY_10, "wang.fang", rules.initial_status)
    return history.settle(rules, ticket)


def change(rules, ticket, minutes_later, updates, action="priority"):
    at = MONDAY_10 + timedelta(minutes=minutes_later)
    return history.settle(rules, history.record(rules, ticket, at, "he.wei", action, updates,
                                                note="变更"))


def clocks(rules, ticket, at):
    return sla.level(ticket.events, ticket.fields, rules.service, at).clocks


def test_the_share_of_the_promise_still_left_carries_over_to_the_new_target():
    # 60 of 960 counted, raised to 480: 15/16 of what was left, of 480
    assert sla.carry_over(960, 60, 960, 480) == 60 + 450
    # lowered from 480 to 1440 with 120 counted: three times what was left
    assert sla.carry_over(480, 120, 480, 1440) == 120 + 360 * 3


def test_a_clock_already_due_stays_due_from_the_same_moment():
    assert sla.carry_over(960, 1000, 960, 480) == 960
    assert sla.carry_over(960, 960, 960, 480) == 960


def test_a_raise_shortens_what_is_left_from_the_raise_on(rules):
    ticket = change(rules, urgent(rules), 60, {"priority": "P1"})  # 11:00: 60 of 120 used
    response, resolution = clocks(rules, ticket, MONDAY_10 + timedelta(minutes=60)).values()
    assert response.minutes == 30 and response.due == datetime(2026, 11, 23, 11, 15, tzinfo=TZ)
    assert response.used_pct == pytest.approx(50.0)  # the share used does not jump
    assert resolution.minutes == 480  # 900 of 960 left: 450 of 480 from 11:00
    assert resolution.due == datetime(2026, 11, 24, 10, 30, tzinfo=TZ)
    assert [(c.policy, c.minutes, c.left_before, c.left_after) for c in response.changes] == \
        [("特急", 30, 60.0, 15.0)]


def test_a_raise_after_the_breach_leaves_the_due_time_and_judges_the_overrun_by_the_missed_target(
        rules):
    ticket = change(rules, urgent(rules), 240, {"priority": "P1"})  # 14:00: 60 min over
    response = clocks(rules, ticket, MONDAY_10 + timedelta(minutes=300))["response"]
    assert response.due == datetime(2026, 11, 23, 12, 0, tzinfo=TZ)  # where it was
    assert response.state == "breached" and response.minutes == 30
    assert response.judged == 120 and response.remaining == -120  # 12:00 to 15:00 less lunch
    assert response.used_pct == pytest.approx(200.0)  # not 500% of P1's 30 minutes
    kept = ticket.fields["sla"]
    assert kept["response_minutes"] == 30 and kept["response_promised_minutes"] == 120


def test_a_response_given_before_the_raise_stays_judged_by_its_own_target(rules):
    ticket = urgent(rules)
    ticket = history.settle(rules, history.record(
        rules, ticket, MONDAY_10 + timedelta(minutes=30), "liu.yang", "comment", {},
        note="已收到", visibility="public"))
    ticket = change(rules, ticket, 60, {"priority": "P1"})
    response = clocks(rules, ticket, MONDAY_10 + timedelta(minutes=90))["response"]
    assert response.state == "met" and response.minutes == 120 and not response.changes


def test_a_request_answered_and_resolved_the_moment_it_is_made_has_met_both_targets(rules):
    ticket = urgent(rules, priority=None)  # classified in the same moment, as `new` does
    ticket = history.record(rules, ticket, MONDAY_10, "wang.fang", "classify",
                            {"priority": "P2"})
    ticket = history.transition(rules, ticket, MONDAY_10, "wang.fang", "assign",
                                {"assignee": "liu.yang"})
    ticket = history.settle(rules, history.transition(rules, ticket, MONDAY_10, "liu.yang",
                                                      "resolve", {"resolution": "电话指导"}))
    found = clocks(rules, ticket, MONDAY_10 + timedelta(hours=1))
    assert {t: (c.state, c.minutes) for t, c in found.items()} == {
        "response": ("met", 120), "resolution": ("met", 960)}
    assert ticket.fields["sla"]["resolution_state"] == "met"


def test_a_customer_made_vip_counts_on_the_vip_calendar_from_then_on(rules):
    # P1 on the standard calendar (resolution 480), then VIP on 7x24 (resolution 8h)
    ticket = change(rules, urgent(rules, priority="P1"), 60,
                    {"customer.tier": "vip"}, action="edit")
    resolution = clocks(rules, ticket, MONDAY_10 + timedelta(minutes=60))["resolution"]
    assert sla.level(ticket.events, ticket.fields, rules.service,
                     MONDAY_10).policy.calendar.name == "7x24"
    # 420 of 480 left at 11:00 carried to 420 of 480 around the clock: due at 18:00 the
    # same day, where the standard calendar alone would have said Tuesday 10:00
    assert resolution.due == datetime(2026, 11, 23, 18, 0, tzinfo=TZ)
    assert [p.worked for p in resolution.spans] == [60.0, 0.0]


def facts(ticket, done=()):
    return sla.Facts(ticket.number, "t.yaml", model.replay(ticket.events) | {
        "sla": ticket.fields["sla"]}, True, None, None, frozenset(done))


def test_the_ladder_counts_its_later_steps_against_the_missed_target(rules):
    # due Wednesday 10:00 under P2 (960); the first step raised it to P1 (480) at 10:10
    wednesday_10 = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
    ticket = change(rules, urgent(rules), (wednesday_10 - MONDAY_10).total_seconds() / 60 + 10,
                    {"priority": "P1"})
    assert ticket.fields["sla"]["resolution_promised_minutes"] == 960
    done = {"breach: resolution", "escalation: 解决超时-提级"}
    # 300 minutes over at 16:00: 131% of the 960 missed (it would be 162% of P1's 480)
    due = sla.due_now(facts(ticket, done), rules.service, wednesday_10.replace(hour=16))
    assert [d.key for d in due if d.kind == "step"] == []
    # 480 over on Thursday 10:00: 150%
    due = sla.due_now(facts(ticket, done), rules.service,
                      wednesday_10 + timedelta(days=1, minutes=10))
    steps = [d for d in due if d.kind == "step"]
    assert [d.key for d in steps] == ["escalation: 解决超时-转组长"]
    assert "960 working minutes" in steps[0].note and "151% used" in steps[0].note
