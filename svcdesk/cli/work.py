"""Working a ticket: classify, assign, priority, and the workflow's actions."""

import click

from svcdesk.app import work
from svcdesk.cli.output import echo, style
from svcdesk.cli.params import ASSIGNMENT, TICKET_ID, completes

pass_state = click.pass_obj


def report_outcome(desk, outcome, explain: bool) -> None:
    """Say what the rules decided; with ``explain``, every step and why."""
    rules, ticket = desk.rules, outcome.ticket
    decision, choice = outcome.decision, outcome.choice
    if ticket is not None:
        f = ticket.fields
        facts = [f"{rules.label('types', f.get('type'))} ({f.get('type')})",
                 f"{f.get('priority')} {rules.label('priorities', f.get('priority'))}"]
        if f.get("category"):
            facts.append(f["category"])
        if f.get("assignee"):
            facts.append(f"→ {rules.label('agents', f['assignee'])} ({f['assignee']})")
        elif f.get("team"):
            facts.append(f"→ {rules.label('teams', f['team'])} queue ({f['team']})")
        echo("  " + " · ".join(facts))
    if decision is not None:
        for warning in decision.warnings:
            echo(f"Warning: {warning}", err=True)
    if choice is not None and choice.agent is None:
        echo(f"  nobody fits now: the ticket waits in the {choice.team or 'desk'} queue "
             "(`svcdesk assign ID AGENT` to assign by hand)")
    if explain:
        if decision is not None:
            echo(style("Why (classification and priority):", bold=True))
            for line in decision.trail:
                echo("  " + line)
        if choice is not None:
            echo(style("Why (assignment):", bold=True))
            for line in choice.trail:
                echo("  " + line)


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("--explain", is_flag=True, help="Say which rules decided what, and why.")
@pass_state
def classify(state, ticket, explain):
    """Run the classification rules again on a ticket (what a person set stays)."""
    desk = state.desk()
    outcome = work.classify_ticket(desk, ticket)
    echo(f"{style(outcome.ticket.number, bold=True)}: "
         + ("reclassified" if outcome.changed else "no change"))
    report_outcome(desk, outcome, explain)


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.argument("agent", required=False, shell_complete=completes("agents"))
@click.option("-m", "--message", help="Why (recorded on the ticket).")
@click.option("--explain", is_flag=True, help="Say how the strategies chose.")
@pass_state
def assign(state, ticket, agent, message, explain):
    """Assign a ticket to AGENT, or (without AGENT) by the assignment strategies."""
    desk = state.desk()
    outcome = work.assign_ticket(desk, ticket, agent, message)
    echo(f"{style(outcome.ticket.number, bold=True)}: "
         + ("assigned" if outcome.changed else "no change"))
    report_outcome(desk, outcome, explain)


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.argument("level")
@click.option("-m", "--message", required=True, help="Why the priority changes.")
@pass_state
def priority(state, ticket, level, message):
    """Override a ticket's priority by hand (P1..P4), saying why."""
    result = work.set_priority(state.desk(), ticket, level.upper(), message)
    echo(f"{result.number}: priority {result.fields['priority']}")


def _moved(desk, result) -> None:
    status = result.fields["status"]
    who = result.fields.get("assignee")
    echo(f"{style(result.number, bold=True)}: {desk.rules.label('statuses', status)} "
         f"({status})" + (f" · {desk.rules.label('agents', who)} ({who})" if who else ""))


def _action(name: str, summary: str, message: str | None, required: bool):
    @click.command(name, help=summary)
    @click.argument("ticket", type=TICKET_ID)
    @click.option("-m", "--message", required=required, help=message)
    @click.option("--internal", is_flag=True, help="Keep the message from the customer.")
    @pass_state
    def command(state, ticket, message, internal):
        desk = state.desk()
        _moved(desk, work.move(desk, ticket, name, message, public=not internal))

    return command


start = _action("start", "Start work on a ticket (taking it, when it has no owner).",
                "A note on how you begin.", False)
wait = _action("wait", "Wait on the customer (the SLA clock pauses), saying for what.",
               "What the customer must send or do (请提供购买凭证和故障照片).", True)
resume = _action("resume", "Go on after the customer answered.",
                 "What the customer sent.", False)


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("-m", "--message", "resolution",
              help="The resolution: what was done (更换主板后测试正常); after the canned "
                   "reply, with --reply.")
@click.option("--reply", metavar="NAME",
              help="The resolution is this canned reply (`svcdesk replies`).")
@pass_state
def resolve(state, ticket, resolution, reply):
    """Mark a ticket resolved; the customer confirms it before it is closed."""
    from svcdesk.base.errors import UsageError

    desk = state.desk()
    if reply:
        _moved(desk, work.move(desk, ticket, "resolve", resolution_reply=(reply, resolution)))
    elif resolution and resolution.strip():
        _moved(desk, work.move(desk, ticket, "resolve",
                               updates={"resolution": resolution.strip()}))
    else:
        raise UsageError("resolve needs the resolution: -m TEXT or --reply NAME")


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("--csat", type=click.IntRange(1, 5), help="The customer's rating, 1 to 5.")
@click.option("--feedback", help="What the customer said.")
@click.option("-m", "--message", help="A note (客户已确认问题解决).")
@pass_state
def close(state, ticket, csat, feedback, message):
    """Close a resolved ticket: the customer confirmed the resolution, with their rating."""
    desk = state.desk()
    updates = {"csat": csat, "feedback": feedback.strip() if feedback else None}
    _moved(desk, work.move(desk, ticket, "close", message,
                           {k: v for k, v in updates.items() if v is not None}))


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("-m", "--message", required=True, help="Why: what the customer reported.")
@pass_state
def reopen(state, ticket, message):
    """Reopen a resolved or closed ticket (its resolution and rating are cleared)."""
    desk = state.desk()
    _moved(desk, work.move(desk, ticket, "reopen", message,
                           {"resolution": None, "csat": None, "feedback": None}))


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("-m", "--message", required=True, help="Why it needs a higher level.")
@pass_state
def escalate(state, ticket, message):
    """Hand a ticket up: to its team's lead, then to the desk's manager."""
    desk = state.desk()
    _moved(desk, work.escalate(desk, ticket, message))


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.argument("score", type=click.IntRange(1, 5), metavar="1-5")
@click.option("--feedback", help="What the customer said.")
@pass_state
def rate(state, ticket, score, feedback):
    """Record the customer's rating of a closed ticket (the answer to its survey); a later
    one replaces it, both kept in the history. Reports count it in the period it is given."""
    result = work.rate(state.desk(), ticket, score, feedback)
    echo(f"{style(result.number, bold=True)}: rated {result.fields['csat']}")


@click.command("do")
@click.argument("action", shell_complete=completes("actions"))
@click.argument("ticket", type=TICKET_ID)
@click.option("-m", "--message", help="A note (a reason, when the action requires one).")
@click.option("--set", "sets", type=ASSIGNMENT, multiple=True,
              help="A field the action fills in: --set parts.order=PO-1234 (repeatable).")
@click.option("--internal", is_flag=True, help="Keep the message from the customer.")
@pass_state
def do(state, action, ticket, message, sets, internal):
    """Take ACTION, one the desk declared in rules.yaml's workflow (审核, 待备件...), on a
    ticket. A declared action is also a command of its own: `svcdesk ACTION TICKET`."""
    desk = state.desk()
    _moved(desk, work.act(desk, ticket, action, message, dict(sets), public=not internal))


def declared(desk, name: str):
    """The command of a desk's own workflow action ``name`` (None: it declares none)."""
    rule = work.declared_action(desk, name)
    if rule is None:
        return None
    rules = desk.rules
    sources = ", ".join(rules.label("statuses", s) for s in rule.sources)
    target = rules.label("statuses", rule.target) if rule.target else "the same status"
    summary = (f"{rules.label('actions', name)}: {sources} → {target} (declared in rules.yaml)"
               + (f"; only a {' or '.join(rule.roles)}" if rule.roles else ""))
    needs_note = "note" in rule.requires

    @click.command(name, help=summary)
    @click.argument("ticket", type=TICKET_ID)
    @click.option("-m", "--message", required=needs_note, help="A note" + (
        " (required: the action asks for a reason)." if needs_note else "."))
    @click.option("--set", "sets", type=ASSIGNMENT, multiple=True,
                  help="A field the action fills in (repeatable).")
    @click.option("--internal", is_flag=True, help="Keep the message from the customer.")
    @pass_state
    def command(state, ticket, message, sets, internal):
        _moved(desk, work.act(desk, ticket, name, message, dict(sets), public=not internal))

    return command


COMMANDS = (classify, assign, priority, start, wait, resume, resolve, close, reopen, escalate,
            rate, do)
