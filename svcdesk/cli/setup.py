"""The desk's set-up: rules check and test, agents."""

import click

from svcdesk.cli.output import as_json, echo, style
from svcdesk.cli.params import ASSIGNMENT, TEXT_OR_JSON
from svcdesk.base.errors import ExitCode

pass_state = click.pass_obj


@click.group()
def rules():
    """Check rules.yaml and try it on requests."""


@rules.command()
@click.option("--strict", is_flag=True, help="Fail (exit 4) on warnings too.")
@TEXT_OR_JSON
@pass_state
def check(state, strict, fmt):
    """Validate rules.yaml, and warn about unreachable statuses and rules that never match."""
    from svcdesk.app import admin

    desk = state.desk()  # a broken rules.yaml stops here, naming file, line and key
    r = desk.rules
    findings = r.findings()
    from svcdesk.app.work import declared_action
    from svcdesk.cli import command_names

    findings += [f"workflow.transitions.{a}: `svcdesk {a}` is svcdesk's own command; take "
                 f"this action with `svcdesk do {a} ID`" for a in r.transitions
                 if declared_action(desk, a) and a in command_names()]
    admin.look_ahead(desk)  # a year without holiday data ahead is warned about
    counts = {"types": len(r.types), "statuses": len(r.statuses), "transitions":
              len(r.transitions), "classify_rules": len(r.classify), "teams": len(r.teams),
              "agents": len(r.agents)}
    if fmt == "json":
        echo(as_json({"valid": True, "counts": counts, "warnings": findings}))
    else:
        echo(f"{desk.root / 'rules.yaml'}: valid (" + ", ".join(
            f"{n} {k.replace('_', ' ')}" for k, n in counts.items()) + ")")
        for finding in findings:
            echo(f"Warning: {finding}", err=True)
    return ExitCode.RULES if strict and findings else ExitCode.OK


@rules.command("test")
@click.argument("text", nargs=-1)
@click.option("--title", help="The request's title (default: the text's first line).")
@click.option("--set", "sets", type=ASSIGNMENT, multiple=True,
              help="Other fields: --set channel=phone --set customer.tier=vip.")
@TEXT_OR_JSON
@pass_state
def test(state, text, title, sets, fmt):
    """Show what the rules would do with a request, without recording anything."""
    from svcdesk.base.errors import UsageError

    desk = state.desk()
    body = " ".join(text).strip()
    if not body and not title:
        raise UsageError("give the request's text (and --title), e.g. "
                         "svcdesk rules test 打印机频繁卡纸")
    given = dict(sets)
    given.setdefault("title", title or body.splitlines()[0][:80])
    if body:
        given.setdefault("description", body)
    from svcdesk.app import intake

    outcome = intake.preview(desk, given)
    decision, choice = outcome.decision, outcome.choice
    values = decision.values
    result = {
        "type": values.get("type"), "category": values.get("category"),
        "priority": values.get("priority"), "team": (choice.team if choice and choice.agent
                                                     else values.get("team")),
        "assignee": choice.agent if choice else values.get("assignee"),
        "impact": values.get("impact"), "urgency": values.get("urgency"),
        "tags": values.get("tags") or [], "rules": decision.fired,
        "set": {k: v for k, v in decision.changes.items()},
        "explain": {"classification": decision.trail,
                    "assignment": list(choice.trail) if choice else []},
        "warnings": decision.warnings,
    }
    if fmt == "json":
        echo(as_json(result))
        return
    r = desk.rules
    for key in ("type", "category", "priority", "team", "assignee", "impact", "urgency"):
        value = result[key]
        vocabulary = {"type": "types", "priority": "priorities", "team": "teams",
                      "assignee": "agents", "impact": "impacts", "urgency": "urgencies"}.get(key)
        label = r.label(vocabulary, value) if vocabulary and value else None
        shown = "—" if value is None else (f"{value} ({label})" if label and label != value
                                           else str(value))
        echo(f"{key:<9} {shown}")
    if result["tags"]:
        echo(f"{'tags':<9} {', '.join(result['tags'])}")
    echo(f"{'rules':<9} {', '.join(decision.fired) or '—'}")
    for warning in decision.warnings:
        echo(f"Warning: {warning}", err=True)
    echo(style("Why:", bold=True))
    for line in decision.trail + (list(choice.trail) if choice else []):
        echo("  " + line)


@click.command()
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="table for people; json for scripts.")
@pass_state
def agents(state, fmt):
    """Each agent's open load, capacity, skills and regions, and who is off today."""
    desk = state.desk()
    from svcdesk.app import admin

    rows = admin.agents(desk)
    if fmt == "json":
        echo(as_json([{"agent": a.agent.key, "name": a.agent.name, "team": a.agent.team,
                       "role": a.agent.role, "open": a.open, "capacity": a.agent.capacity,
                       "skills": list(a.agent.skills), "regions": list(a.agent.regions),
                       "off_today": a.off_today} for a in rows]))
        return
    from svcdesk.cli.output import table

    r = desk.rules
    echo(table([[a.agent.key, a.agent.name, r.label("teams", a.agent.team), a.agent.role,
                 f"{a.open}/{a.agent.capacity if a.agent.capacity is not None else '∞'}",
                 ", ".join(a.agent.skills), ", ".join(a.agent.regions),
                 "off" if a.off_today else ""] for a in rows],
               ["agent", "name", "team", "role", "open/cap", "skills", "regions", "today"]))


COMMANDS = (rules, agents)
