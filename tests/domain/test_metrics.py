"""Per-ticket figures from events, with no disk."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from svcdesk.domain.metrics import ticket_figures
from svcdesk.base.model import Event

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def ev(minutes, action, changes=None, **kw):
    return Event(f"e{minutes}", T0 + timedelta(minutes=minutes), "li.qiang", action,
                 changes or {}, **kw)


def status(old, new):
    return {"status": (old, new)}


CREATE = Event("e0", T0, "wang.fang", "create", fields={"status": "new"})


def test_first_response_is_the_first_public_contact_not_an_internal_note():
    events = [CREATE, ev(5, "assign", {**status("new", "assigned"), "assignee": (None, "a")}),
              ev(10, "comment", note="内部：查库存", visibility="internal"),
              ev(30, "comment", note="您好，已收到", visibility="public")]
    assert ticket_figures(events)["first_response_at"] == T0 + timedelta(minutes=30)
    assert ticket_figures(events[:3])["first_response_at"] is None


def test_waiting_time_is_paused_and_a_reopen_clears_the_resolution():
    events = [CREATE, ev(10, "wait", status("new", "waiting")),
              ev(70, "resume", status("waiting", "in_progress")),
              ev(90, "resolve", status("in_progress", "resolved")),
              ev(200, "reopen", status("resolved", "reopened")),
              ev(300, "resolve", status("reopened", "resolved")),
              ev(400, "close", status("resolved", "closed"))]
    figures = ticket_figures(events)
    assert figures["paused_seconds"] == 3600 and figures["paused_since"] is None
    assert figures["first_response_at"] == T0 + timedelta(minutes=10)  # asking is contact
    assert figures["resolved_at"] == T0 + timedelta(minutes=300)
    assert figures["closed_at"] == T0 + timedelta(minutes=400)
    assert figures["reopens"] == 1
    assert ticket_figures(events[:5])["resolved_at"] is None


def test_a_ticket_still_waiting_counts_its_pause_up_to_now_only_when_asked():
    events = [CREATE, ev(10, "wait", status("new", "waiting"))]
    assert ticket_figures(events)["paused_seconds"] == 0
    assert ticket_figures(events)["paused_since"] == T0 + timedelta(minutes=10)
    later = T0 + timedelta(minutes=40)
    assert ticket_figures(events, now=later)["paused_seconds"] == 1800


def test_reassignments_and_escalations_are_counted():
    events = [CREATE, ev(1, "assign", {"assignee": (None, "a")}),
              ev(2, "assign", {"assignee": ("a", "b")}), ev(3, "escalate", note="升级"),
              ev(4, "assign", {"assignee": ("b", "c")})]
    figures = ticket_figures(events)
    assert figures["reassignments"] == 2 and figures["escalations"] == 1
