"""The rule language: classification, priority, assignment strategies, the transition table,
and the rules.yaml mistakes each is refused for."""

import copy
import time
from datetime import date
from pathlib import Path

import pytest
import yaml

from svcdesk.domain import assign
from svcdesk.domain import classify
from svcdesk.domain import workflow
from svcdesk.base.errors import RulesError, WorkflowError
from svcdesk.domain.rules import compile_rules
from svcdesk.adapters.store import rules_from_text

TEXT = (Path(__file__).parents[2] / "rules.yaml").read_text(encoding="utf-8")
DEFAULT = yaml.safe_load(TEXT)


def rules_with(**sections):
    """The default rules with top-level ``sections`` replaced."""
    data = copy.deepcopy(DEFAULT)
    data.update(sections)
    return compile_rules(data)


def rule(name, **entry):
    return {"name": name, **entry}


# ---- classification ------------------------------------------------------------------------

def test_the_first_matching_rule_decides_and_later_ones_do_not_run():
    rules = rules_with(classify=[
        rule("a", when={"keywords": ["卡纸"]}, set={"type": "fault"}),
        rule("b", when={"keywords": ["卡纸"]}, set={"type": "inquiry", "category": "x"}),
    ])
    decision = classify.classify(rules.classify, {"title": "打印机卡纸"})
    assert decision.fired == ["a"] and decision.values["type"] == "fault"
    assert "category" not in decision.values


def test_continue_goes_on_and_the_first_rule_to_set_a_field_keeps_it():
    rules = rules_with(classify=[
        rule("urgent", when={"keywords": ["urgent"]}, set={"urgency": "high", "type": "fault"},
             tags=["催"], **{"continue": True}),
        rule("skip", when={"keywords": ["never-here"]}, set={"category": "no"}),
        rule("kind", when={"keywords": ["printer"]}, set={"type": "inquiry", "category": "p"},
             tags=["打印"]),
    ])
    decision = classify.classify(rules.classify, {"title": "URGENT: printer jammed"})
    assert decision.fired == ["urgent", "kind"]
    assert decision.values["type"] == "fault" and decision.values["category"] == "p"
    assert decision.values["tags"] == ["催", "打印"]
    assert any("already set by rule urgent" in line for line in decision.trail)


def test_continue_by_name_jumps_forward_over_the_rules_between():
    rules = rules_with(classify=[
        rule("start", when={"keywords": ["退货"]}, set={"type": "return"},
             **{"continue": "reason"}),
        rule("catch-all", set={"type": "inquiry", "category": "other"}),
        rule("reason", when={"keywords": ["无理由"]}, set={"return_reason": "no_reason"}),
    ])
    decision = classify.classify(rules.classify, {"title": "七天无理由退货"})
    assert decision.fired == ["start", "reason"] and "category" not in decision.values
    assert decision.values["return_reason"] == "no_reason"


def test_conditions_on_words_regex_and_fields_must_all_hold():
    rules = rules_with(classify=[rule("vip-ac", when={
        "keywords": ["空调"], "all_keywords": ["不制冷", "机房"], "not_keywords": ["咨询"],
        "regex": r"\d+\s*度", "in": "description",
        "fields": {"channel": ["phone", "wechat"], "customer.tier": "vip",
                   "product.model": "KF-*", "product.warranty": "in"}},
        set={"type": "fault"})])
    values = {"title": "空调", "description": "机房空调不制冷，已经 30 度", "channel": "phone",
              "customer": {"tier": "vip"}, "product": {"model": "kf-35 变频", "warranty": "in"}}
    assert classify.classify(rules.classify, values).fired == ["vip-ac"]
    for path, value in (("channel", "email"), ("customer", {"tier": "standard"}),
                        ("description", "机房空调不制冷，咨询一下"), ("description", "机房空调不制冷"),
                        ("title", "空调不制冷 机房 30 度")):
        changed = {**values, path: value}
        if path == "title":
            changed["description"] = "x"
        assert classify.classify(rules.classify, changed).fired == [], (path, value)


def test_english_keywords_match_whole_words_and_their_endings_chinese_anywhere():
    words = classify.Words.of(["jam", "fire", "0x7b", "卡纸"])
    assert words.found("the printer jammed") == ["jam"]
    assert words.found("paper jams daily") == ["jam"]
    assert words.found("the firewall blocks it") == []
    assert words.found("error 0x7b at boot") == ["0x7b"]
    assert words.found("频繁卡纸") == ["卡纸"]


def test_an_english_keyword_absent_from_the_text_compiles_no_pattern():
    words = classify.Words.of(["jam", "fire", "overheat", "卡纸"])
    assert words.found("the firewall jammed") == ["jam"]
    assert set(words._patterns) == {"jam", "fire"}  # "overheat" is not in the text at all


def test_a_field_a_person_gave_is_never_changed_by_the_rules():
    rules = rules_with(classify=[rule("t", when={"keywords": ["发票"]},
                                      set={"type": "invoice", "priority": "P1"})])
    decision = classify.decide(rules, {"title": "发票", "type": "complaint",
                                       "priority": "P4"}, kept={"type", "priority"})
    assert decision.values["type"] == "complaint" and decision.values["priority"] == "P4"
    assert "type" not in decision.changes


@pytest.mark.parametrize("pattern", ["(a|aa)+b", "(a+)+$", "(.*a){12}b", "(a|a?)+b"])
def test_a_regex_built_to_backtrack_runs_in_linear_time(pattern):
    """Python's re takes exponential time on these over a few dozen characters; RE2 answers
    at once, on 100,000, and the rules go on (no signal, no time limit, no warning)."""
    rule = classify.Rule("nested", 0, regex=classify.compile_regex(pattern, ("regex",)),
                         sets={"type": "fault"})
    then = classify.Rule("then", 1, sets={"category": "other"})
    started = time.monotonic()
    decision = classify.classify((rule, then), {"title": "a" * 100_000 + "!"})
    assert time.monotonic() - started < 1
    assert decision.fired == ["then"] and decision.warnings == []


def test_a_regex_matches_case_ignored_and_says_what_it_found():
    rule = classify.Rule("code", 0, regex=classify.compile_regex(r"\bE\d{2}\b", ("regex",)),
                         sets={"type": "fault"})
    decision = classify.classify((rule,), {"title": "空调显示 e05 后停机"})
    assert decision.fired == ["code"] and "regex found 'e05'" in decision.reasons[0]


# ---- priority --------------------------------------------------------------------------------

@pytest.mark.parametrize("values,expected", [
    ({"impact": "safety", "urgency": "low"}, "P2"),
    ({"impact": "business", "urgency": "critical"}, "P1"),
    ({"impact": "group"}, "P2"),                       # urgency defaults to medium
    ({"urgency": "low"}, "P4"),                        # impact defaults to single
    ({"type": "complaint"}, "P2"),                     # neither: the type's default
    ({}, "P3"),                                        # no type either: the desk's
    ({"urgency": "low", "customer": {"tier": "vip"}}, "P3"),   # raised one level
    ({"impact": "safety", "urgency": "critical", "customer": {"tier": "key"}}, "P1"),
])
def test_priority_follows_impact_times_urgency_raised_by_tier(values, expected):
    rules = rules_with(classify=[])
    assert classify.decide(rules, values).values["priority"] == expected


def test_a_priority_a_person_gave_is_not_raised_by_tier():
    rules = rules_with(classify=[])
    decision = classify.decide(rules, {"priority": "P4", "customer": {"tier": "vip"}},
                               kept={"priority", "customer.tier"})
    assert decision.values["priority"] == "P4"


# ---- assignment ------------------------------------------------------------------------------

def agents_of(*entries):
    data = {}
    for key, team, extra in entries:
        data[key] = {"name": key, "email": f"{key}@example.com", "team": team, **extra}
    teams = {t: {"label": t} for t in {e[1] for e in entries}}
    kept = {k: v for k, v in DEFAULT["agents"].items() if k not in data}
    return rules_with(agents={**kept, **data}, teams={**DEFAULT["teams"], **teams},
                      classify=[]).agents


TODAY = date(2026, 11, 23)  # a Monday


def test_skill_prefers_the_most_matching_skills_and_least_loaded_breaks_ties():
    agents = agents_of(("a", "hw", {"skills": ["fault", "printer"]}),
                       ("b", "hw", {"skills": ["fault", "printer"]}),
                       ("c", "hw", {"skills": ["fault"]}))
    values = {"team": "hw", "type": "fault", "category": "printer"}
    choice = assign.choose(agents, ("skill", "least_loaded"), values, {"a": 3, "b": 1}, None,
                           TODAY)
    assert choice.agent == "b" and choice.team == "hw"
    assert "skill: most matches of fault, printer first: a 2, b 2, c 1" in choice.trail
    assert choice.trail[-1] == "chosen: b (decided by least_loaded: fewest open tickets (1))"


def test_the_explanation_names_the_strategy_that_decided():
    """least_loaded listing c with fewer tickets, then choosing a, reads as a contradiction
    unless it says that the skills decided before the loads were looked at."""
    agents = agents_of(("a", "hw", {"skills": ["fault", "printer"]}),
                       ("c", "hw", {"skills": ["fault"]}))
    values = {"team": "hw", "type": "fault", "category": "printer"}
    choice = assign.choose(agents, ("skill", "least_loaded"), values, {"a": 2, "c": 1}, None,
                           TODAY)
    assert "least_loaded: a 2, c 1" in choice.trail
    assert choice.trail[-1] == "chosen: a (decided by skill: most skill matches (2))"
    alone = assign.choose(agents_of(("a", "hw", {})), ("least_loaded",), {"team": "hw"}, {},
                          None, TODAY)
    assert alone.trail[-1] == "chosen: a (the only one who fits)"
    tied = assign.choose(agents_of(("a", "hw", {}), ("b", "hw", {})), ("least_loaded",),
                         {"team": "hw"}, {}, None, TODAY)
    assert tied.trail[-1] == "chosen: a (tied with b on every strategy; first in rules.yaml)"


def test_skill_then_region_keeps_a_weaker_match_who_covers_the_region():
    agents = agents_of(("a", "hw", {"skills": ["fault", "laptop"], "regions": ["上海"]}),
                       ("b", "hw", {"skills": ["fault"], "regions": ["杭州"]}))
    values = {"team": "hw", "type": "fault", "category": "laptop",
              "customer": {"region": "杭州"}}
    assert assign.choose(agents, ("skill", "region"), values, {}, None, TODAY).agent == "b"


def test_region_keeps_agents_covering_it_and_agents_without_regions_cover_all():
    agents = agents_of(("a", "hw", {"regions": ["杭州"]}), ("b", "hw", {"regions": ["上海"]}),
                       ("c", "hw", {}))
    values = {"team": "hw", "customer": {"region": "上海"}}
    choice = assign.choose(agents, ("region",), values, {}, None, TODAY)
    assert choice.agent == "b"
    assert assign.choose(agents, ("region", "least_loaded"), values, {"b": 5}, None,
                         TODAY).agent == "c"


def test_round_robin_takes_turns_after_the_last_agent_given_a_ticket():
    agents = agents_of(("a", "hw", {}), ("b", "hw", {}), ("c", "hw", {}))
    values = {"team": "hw"}
    picks = [assign.choose(agents, ("round_robin",), values, {}, last, TODAY).agent
             for last in (None, "a", "b", "c")]
    assert picks == ["a", "b", "c", "a"]


def test_strategies_combine_in_order_least_loaded_then_round_robin_breaks_ties():
    agents = agents_of(("a", "hw", {}), ("b", "hw", {}), ("c", "hw", {}))
    choice = assign.choose(agents, ("least_loaded", "round_robin"), {"team": "hw"},
                           {"a": 1, "b": 1, "c": 2}, "a", TODAY)
    assert choice.agent == "b"


def test_agents_at_capacity_or_off_today_are_skipped_and_nobody_means_the_queue():
    agents = agents_of(("a", "hw", {"capacity": 2}),
                       ("b", "hw", {"days_off": ["2026-11-20..2026-11-24"]}),
                       ("c", "hw", {"days_off": ["mon"]}))
    choice = assign.choose(agents, ("least_loaded",), {"team": "hw"}, {"a": 2}, None, TODAY)
    assert choice.agent is None and choice.team == "hw"
    assert "at capacity (2/2)" in "\n".join(choice.trail)
    assert "off on 2026-11-23" in "\n".join(choice.trail)
    assert "queue" in choice.trail[-1]
    assert assign.choose(agents, ("least_loaded",), {"team": "hw"}, {"a": 1}, None,
                         TODAY).agent == "a"


def test_no_skill_match_sends_the_ticket_to_the_queue():
    agents = agents_of(("a", "hw", {"skills": ["printer"]}))
    choice = assign.choose(agents, ("skill",), {"team": "hw", "type": "invoice"}, {}, None,
                           TODAY)
    assert choice.agent is None and "nobody has a skill" in "\n".join(choice.trail)


# ---- the transition table --------------------------------------------------------------------

def test_transitions_are_enforced_with_what_is_allowed():
    rules = rules_with()
    t, s = rules.transitions, rules.statuses
    assert workflow.check(t, s, "X", "resolved", "close", {}, None) == "closed"
    with pytest.raises(WorkflowError, match="in_progress .*close is allowed only from resolved"):
        workflow.check(t, s, "X", "in_progress", "close", {}, None)
    with pytest.raises(WorkflowError, match="resolve is allowed only from"):
        workflow.check(t, s, "X", "closed", "resolve", {"resolution": "x"}, None)
    with pytest.raises(WorkflowError, match="resolve needs resolution"):
        workflow.check(t, s, "X", "in_progress", "resolve", {}, None)
    with pytest.raises(WorkflowError, match="reopen needs a reason"):
        workflow.check(t, s, "X", "closed", "reopen", {}, "  ")
    assert workflow.check(t, s, "X", "waiting", "escalate", {}, "why") == "waiting"


def test_rules_check_reports_unreachable_statuses_and_rules_that_never_match():
    data = copy.deepcopy(DEFAULT)
    data["statuses"]["archived"] = {"label": "归档", "open": False}
    data["classify"] = [
        rule("contradiction", when={"all_keywords": ["a"], "not_keywords": ["a"]},
             set={"type": "fault"}),
        rule("broad", when={"keywords": ["卡纸", "打印"]}, set={"type": "fault"}),
        rule("narrow", when={"keywords": ["卡纸"], "fields": {"channel": "phone"}},
             set={"type": "inquiry"}),
        rule("catch-all", set={"type": "inquiry"}),
        rule("after-all", when={"keywords": ["x"]}, set={"type": "fault"}),
    ]
    findings = "\n".join(compile_rules(data).findings())
    assert "statuses.archived: unreachable" in findings
    assert "contradiction: can never match" in findings
    assert "narrow: can never match (rule broad" in findings
    assert "after-all: can never match (rule catch-all" in findings
    assert "broad: can never" not in findings


# ---- bad rules.yaml: refused, naming file, line and key -------------------------------------

BAD = [
    ("unknown key", lambda d: d["desk"].update(colour="red"), "desk.colour", "unknown key"),
    ("wrong type", lambda d: d["agents"]["li.qiang"].update(capacity="many"),
     "agents.li.qiang.capacity", "expected a whole number"),
    ("transition to nowhere", lambda d: d["workflow"]["transitions"]["close"].update(
        to="archived"), "workflow.transitions.close.to", "not a status"),
    ("action from an unknown status", lambda d: d["workflow"]["transitions"].update(
        archive={"from": ["gone"], "to": "closed"}), "workflow.transitions.archive.from.0",
     "not a status"),
    ("action for an unknown role", lambda d: d["workflow"]["transitions"]["close"].update(
        by=["boss"]), "workflow.transitions.close.by.0", "one of"),
    ("a loop that never closes", lambda d: (
        d["statuses"].update(parked={"label": "搁置"}),
        d["workflow"]["transitions"].update(park={"from": ["waiting"], "to": "parked"},
                                            unpark={"from": ["parked"], "to": "parked"})),
     "statuses.parked", "can never be closed"),
    ("no closed status", lambda d: d["statuses"]["closed"].update(open=True),
     "statuses", "no ticket can ever be closed"),
    ("a notice event nothing queues", lambda d: d["notices"]["events"].update(
        handed_over=[{"template": "status", "to": ["customer"]}]),
     "notices.events.handed_over", "not a notice event"),
    ("a robot's key in rules.yaml", lambda d: d["notices"].update(channels={"team": {
        "kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"}}),
     "notices.channels.team.url", "holds a secret"),
    ("an sms channel without its gateway", lambda d: d["notices"].update(channels={
        "sms": {"kind": "sms", "url_env": "SMS_URL"}}), "notices.channels.sms",
     "needs gateway"),
    ("people told by a group channel", lambda d: (
        d["notices"].update(channels={"team": {"kind": "dingtalk", "url_env": "DING"}}),
        d["notices"]["events"]["created"][0].update(via=["team"])),
     "notices.events.created.0.via.0", "neither email nor an sms channel"),
    ("a status clock that is not one", lambda d: d["statuses"]["waiting"].update(
        clock="stopped"), "statuses.waiting.clock", "one of"),
    ("rule sets an unknown field", lambda d: d["classify"][0]["set"].update(colour="red"),
     "classify.0.set.colour", "not a field"),
    ("rule sets a managed field", lambda d: d["classify"][0]["set"].update(status="closed"),
     "classify.0.set.status", "kept by svcdesk"),
    ("rule sets a bad value", lambda d: d["classify"][0]["set"].update(impact="huge"),
     "classify.0.set.impact", "is not one of"),
    ("team with no agents", lambda d: d["teams"].update(field={"label": "外勤"}),
     "teams.field", "no agents"),
    ("duplicate agent email", lambda d: d["agents"]["wang.fang"].update(
        email="chen.jing@example.com"), "agents.wang.fang.email", "also agent"),
    ("bad day off", lambda d: d["agents"]["li.qiang"].update(days_off=["someday"]),
     "agents.li.qiang.days_off", "not a date"),
    ("bad regex", lambda d: d["classify"][0]["when"].update(regex="(unclosed"),
     "classify.0.when.regex", "does not compile"),
    ("backreference", lambda d: d["classify"][0]["when"].update(regex=r"(\d)\1"),
     "classify.0.when.regex", "not one RE2 can match in linear time"),
    ("lookbehind", lambda d: d["classify"][0]["when"].update(regex="(?<=x)y"),
     "classify.0.when.regex", "backreferences and lookaround are not supported"),
    ("continue cycle", lambda d: d["classify"][4].update({"continue": d["classify"][1]["name"]}),
     "classify.4.continue", "cycle"),
    ("continue to nothing", lambda d: d["classify"][0].update({"continue": "nowhere"}),
     "classify.0.continue", "names no rule"),
    ("duplicate rule name", lambda d: d["classify"][1].update(name=d["classify"][0]["name"]),
     "classify.1.name", "second rule named"),
    ("matrix gap", lambda d: d["priority"]["matrix"]["single"].pop("low"),
     "priority.matrix.single", "no priority for urgency 'low'"),
    ("matrix priority", lambda d: d["priority"]["matrix"]["single"].update(low="P9"),
     "priority.matrix.single.low", "not one of the priorities"),
    ("type's team", lambda d: d["types"]["fault"].update(team="nobody"),
     "types.fault.team", "not a team"),
    ("manager", lambda d: d["desk"].update(manager="ghost"), "desk.manager", "not an agent"),
    ("strategy", lambda d: d["assign"].update(strategies=["coin_flip"]),
     "assign.strategies.0", "not allowed"),
]


@pytest.mark.parametrize("name,patch,key,message", BAD, ids=[b[0] for b in BAD])
def test_bad_rules_are_refused_naming_file_line_and_key(name, patch, key, message):
    data = copy.deepcopy(DEFAULT)
    patch(data)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    with pytest.raises(RulesError) as info:
        rules_from_text(text, "rules.yaml")
    error = str(info.value)
    assert error.startswith("rules.yaml:") and f" {key}: " in error and message in error, error
    line = int(error.split(":")[1])
    assert line > 1 and key.split(".")[-1].split("[")[0] in text.splitlines()[line - 1] \
        or key.split(".")[-1].isdigit(), (line, text.splitlines()[line - 1])


def test_an_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    started = time.monotonic()
    with pytest.raises(RulesError, match="alias bomb"):
        rules_from_text("\n".join(lines) + "\n", "rules.yaml")
    assert time.monotonic() - started < 5


def test_a_yaml_error_names_the_line():
    with pytest.raises(RulesError, match=r"^rules.yaml:\d: not valid YAML: .*flow sequence"):
        rules_from_text("desk:\n  name: x\n  prefix: [SD\n", "rules.yaml")


def test_an_agent_listed_twice_is_refused_naming_the_line():
    twice = TEXT.replace("agents:\n", "agents:\n  li.qiang:\n    name: 李强\n    email: "
                         "other@example.com\n    team: hardware\n", 1)
    with pytest.raises(RulesError) as info:
        rules_from_text(twice, "rules.yaml")
    lines = twice.splitlines()
    second = [i for i, text in enumerate(lines) if text == "  li.qiang:"][1] + 1
    assert str(info.value) == f"rules.yaml:{second}: not valid YAML: duplicate key 'li.qiang'"


def test_rules_that_can_never_match_are_found_with_work_linear_in_the_rules(monkeypatch):
    """rules check took over 60 s on 10,000 rules: every rule was compared with every
    earlier one. Now only with the earlier ones that share a condition with it."""
    words = classify.Words.of
    rules = [classify.Rule(f"r{i}", i, keywords=words([f"w{i}", "故障码"]),
                           sets={"tags": [f"t{i}"]}) for i in range(2000)]
    catch_all = classify.Rule("catch-all", 2000, keywords=words(["w7"]), then=None)
    hidden = classify.Rule("hidden", 2001, keywords=words(["w7"]), sets={"type": "fault"})
    field_only = classify.Rule("vip", 2002, tests=(classify.FieldTest("customer.tier",
                                                                      ("vip",)),))
    vip_too = classify.Rule("vip-fault", 2003, keywords=words(["宕机"]),
                            tests=(classify.FieldTest("customer.tier", ("vip",)),))
    calls = []
    implies = classify._implies
    monkeypatch.setattr(classify, "_implies", lambda *a: calls.append(1) or implies(*a))
    found = classify.never_matching(tuple(rules + [catch_all, hidden, field_only, vip_too]))
    assert found == [
        "classify[2000] catch-all: can never match (rule r7 matches every request it "
        "would, and stops)",
        "classify[2001] hidden: can never match (rule r7 matches every request it would, "
        "and stops)",
        "classify[2003] vip-fault: can never match (rule vip matches every request it "
        "would, and stops)"]
    assert len(calls) <= (classify.MOST_CANDIDATES + 2) * 2004  # not 2,000 x 2,000 / 2
