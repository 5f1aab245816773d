"""What one step does to a ticket (domain.history), the time rules' steps (domain.ladder)
and a notice's template context (domain.notices): rules and now in, the new ticket out, with
no disk and no git."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from svcdesk.base import model
from svcdesk.base.errors import WorkflowError
from svcdesk.base.identity import new_ulid
from svcdesk.domain import assign, history, ladder, notices, sla
from svcdesk.domain.rules import compile_rules

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday


@pytest.fixture(scope="module")
def rules():
    text = Path(__file__).parents[2].joinpath("rules.yaml").read_text(encoding="utf-8")
    return compile_rules(yaml.safe_load(text))


def printer(rules, **extra):
    """A new hardware ticket assigned to liu.yang, as intake leaves it."""
    values = model.parse_values(rules.schema, {
        "type": "fault", "title": "打印机卡纸", "customer.name": "刘建国",
        "customer.email": "liu@example.cn", "product.model": "LP-404",
        "product.purchased": "2026-05-20", "description": "打印到第二张就卡纸",
        "team": "hardware", "priority": "P2", **extra})
    ticket = model.create(rules.schema, values, "SD-20261123-0001", new_ulid(AT),
                          new_ulid(AT), AT, "wang.fang", rules.initial_status)
    ticket = history.transition(rules, ticket, AT, "wang.fang", "assign",
                                {"assignee": "liu.yang"})
    return history.settle(rules, ticket)


def test_a_workflow_action_moves_the_status_the_table_says(rules):
    ticket = printer(rules)
    later = AT + timedelta(minutes=20)
    started = history.transition(rules, ticket, later, "liu.yang", "start", {})
    assert started.fields["status"] == rules.transitions["start"].target
    assert started.events[-1].changes["status"] == (ticket.fields["status"],
                                                    started.fields["status"])
    assert started.fields == model.replay(started.events)


def test_an_action_the_table_does_not_allow_is_refused_and_changes_nothing(rules):
    ticket = printer(rules)
    with pytest.raises(WorkflowError, match="close is allowed only from"):
        history.transition(rules, ticket, AT, "liu.yang", "close", {})
    with pytest.raises(WorkflowError, match="needs a reason"):
        history.transition(rules, ticket, AT, "liu.yang", "wait", {})
    assert len(ticket.events) == 2


def test_the_sla_block_is_kept_by_the_event_that_changes_it(rules):
    ticket = printer(rules)
    assert ticket.fields["sla"] == sla.summary(ticket.events, ticket.fields, rules.service,
                                               ticket.events[-1].at)
    raised = history.settle(rules, history.record(rules, ticket, AT, "he.wei", "priority",
                                                  {"priority": "P1"}, note="产线停了"))
    assert raised.fields["sla"]["resolution_due"] < ticket.fields["sla"]["resolution_due"]
    assert "sla.resolution_due" in raised.events[-1].changes and len(raised.events) == 3
    assert history.settle(rules, raised) is raised  # nothing more to keep


def test_hand_edits_become_one_event_and_rules_never_override_a_persons_choice(rules):
    ticket = printer(rules)
    edited = model.Ticket(model.with_fields(ticket, category="printer"), ticket.events)
    absorbed = history.absorb_hand_edits(rules, edited, AT)
    assert absorbed.events[-1].action == "hand-edit"
    assert absorbed.events[-1].changes == {"category": (None, "printer")}
    assert history.absorb_hand_edits(rules, absorbed, AT) is absorbed
    chosen = history.hand_set(absorbed)
    assert {"category", "title", "priority"} <= chosen  # by hand, at intake
    ruled = history.record(rules, absorbed, AT, "svcdesk", "classify", {"tags": ["卡纸"]},
                           rule="打印机")
    assert "tags" not in history.hand_set(ruled)


@pytest.mark.parametrize("action, updates, note, rule, expected", [
    ("assign", {"assignee": "li.qiang"}, None, "assign: skill", "assign to li.qiang (rule: "
                                                                  "assign: skill)"),
    ("priority", {"priority": "P1"}, "客户生产线停了", None, "priority P1: 客户生产线停了"),
    ("resolve", {"resolution": "更换主板后测试正常\n细节"}, "x", None,
     "resolve: 更换主板后测试正常"),
    ("comment", {}, "已远程排查\n第二行", None, "comment: 已远程排查"),
])
def test_a_commit_subject_says_what_the_event_did(rules, action, updates, note, rule,
                                                  expected):
    ticket = printer(rules)
    changed = history.record(rules, ticket, AT, "li.qiang", action, updates, note=note,
                             rule=rule)
    assert history.subject(changed.events[-1]) == expected


def due_step(rules, name):
    step = next(s for s in rules.service.ladder if s.name == name)
    return sla.Due("step", f"escalation: {name}", f"{name} note", step.target, step)


def test_a_ladder_step_raises_the_priority_and_names_who_to_tell(rules):
    ticket = printer(rules)
    taken, did = ladder.take(rules, ticket, due_step(rules, "解决超时-提级"), AT,
                             lambda t: pytest.fail("nobody is reassigned by this step"))
    assert taken.fields["priority"] == "P1" and "priority P2 → P1" in did
    assert taken.events[-1].action == "sla" and taken.events[-1].by == sla.SYSTEM
    assert taken.events[-1].rule == "escalation: 解决超时-提级"
    assert ladder.step_of(rules, taken.events[-1]).notify == ("assignee", "team_lead")


def test_a_ladder_step_that_hands_up_is_an_escalation_to_the_teams_lead(rules):
    taken, did = ladder.take(rules, printer(rules), due_step(rules, "解决超时-转组长"), AT,
                             lambda t: None)
    assert taken.fields["assignee"] == "li.qiang" and taken.events[-1].action == "escalate"
    assert did.startswith("reassigned to li.qiang")


def test_a_step_that_reassigns_to_anyone_asks_for_someone_else(rules):
    step = sla.Step("转派", "resolution", 120, reassign="auto")
    asked = []

    def someone_else(ticket):
        asked.append(ticket.get("assignee"))
        return assign.choose({k: a for k, a in rules.agents.items() if k == "li.qiang"},
                             rules.strategies, ticket.fields, {}, None, AT.date()).agent

    taken, did = ladder.take(rules, printer(rules), sla.Due("step", "escalation: 转派", "n",
                                                             "resolution", step), AT,
                             someone_else)
    assert asked == ["liu.yang"] and taken.fields["assignee"] == "li.qiang"
    assert taken.events[-1].action == "sla"  # not a hand-up to a lead


def test_closing_and_reminding_are_steps_of_their_own(rules):
    ticket = printer(rules)
    reminded, did = ladder.take(rules, ticket, sla.Due("remind", "remind: x #1", "请回复"), AT,
                                None)
    assert did == "reminded the customer" and reminded.events[-1].visibility == "public"
    with pytest.raises(WorkflowError):  # close only after resolve, for the desk too
        ladder.take(rules, ticket, sla.Due("close", "automation: close", "n"), AT, None)


def test_a_notice_context_defines_every_field_and_labels_what_people_read(rules):
    ticket = printer(rules)
    event = ticket.events[-1]
    person = notices.Recipient("customer", "刘建国", "liu@example.cn")
    notice = notices.Notice(ticket.number, ticket.fields["uid"], event.id, "assigned",
                            "assigned", person)
    level = sla.level(ticket.events, ticket.fields, rules.service, event.at)
    context = notices.context(rules, ticket, event, notice, level, None)
    assert context["ticket"]["product"]["serial"] is None  # defined, though empty
    assert context["ticket"]["customer"]["name"] == "刘建国"
    assert context["assignee"] == rules.label("agents", "liu.yang")
    assert context["priority"] == f"P2 {rules.label('priorities', 'P2')}"
    assert context["sla"]["resolution"]["due"] == level.plain()["resolution"]["due"]
    assert context["recipient"]["email"] == "liu@example.cn" and context["step"] is None
