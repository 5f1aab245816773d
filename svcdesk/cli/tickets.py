"""Ticket commands: new, show, list, search, edit, comment, log, fields."""

import os
import sys
from pathlib import Path

import click

from svcdesk.cli.output import FORMATS, as_csv, as_json, echo, page, style
from svcdesk.cli.params import ASSIGNMENT, BOM, DAY, TICKET_ID, completes
from svcdesk.base.errors import ExitCode, UsageError, ValidationError

pass_state = click.pass_obj

# The common fields as options: option name -> ticket field.
COMMON = {
    "title": "title", "type": "type", "description": "description", "priority": "priority",
    "channel": "channel", "customer": "customer.name", "company": "customer.company",
    "phone": "customer.phone", "email": "customer.email", "address": "customer.address",
    "product": "product.model", "serial": "product.serial", "purchased": "product.purchased",
    "expected": "expected", "impact": "impact", "urgency": "urgency",
}
_HELP = {
    "title": "Short title (电脑无法开机故障报修).", "type": "Ticket type (fault, inquiry...).",
    "description": "Symptoms, error codes, frequency, steps.", "priority": "P1..P4.",
    "channel": "Where it came from (phone, email, web, wechat, app, ecommerce).",
    "customer": "Customer's name.", "company": "Customer's company.",
    "phone": "Customer's phone.", "email": "Customer's email.",
    "address": "Address for on-site work.", "product": "Product model.",
    "serial": "Serial number.", "purchased": "Purchase date, YYYY-MM-DD (decides warranty).",
    "expected": "What the customer wants (repair, replace, refund, explain...).",
    "impact": "How far it reaches (single, group, business, safety): sets the priority.",
    "urgency": "How soon it hurts (low, medium, high, critical): sets the priority.",
}


_VOCABULARY = {"type": "types", "priority": "priorities", "channel": "channels",
               "impact": "impacts", "urgency": "urgencies", "expected": "outcomes"}


def _common_options(func):
    for name in reversed(list(COMMON)):
        extra = {"shell_complete": completes(_VOCABULARY[name])} if name in _VOCABULARY else {}
        func = click.option(f"--{name}", metavar="TEXT", help=_HELP[name], **extra)(func)
    return func


@click.command()
@_common_options
@click.option("--set", "sets", type=ASSIGNMENT, multiple=True,
              help="Any field, dotted for nested ones: --set customer.phone=13800000000.")
@click.option("--from", "from_file", metavar="FILE",
              help="Read field values from a YAML or JSON file (- for stdin).")
@click.option("-t", "--template", "template", metavar="NAME",
              help="Start from a ticket template (模板, `svcdesk templates` lists them): its "
                   "fields and description skeleton; what you give still wins.")
@click.option("--edit", is_flag=True, help="Fill in a form in $EDITOR.")
@click.option("--no-auto", is_flag=True,
              help="Do not classify, prioritise or assign by the rules (give --type).")
@click.option("--explain", is_flag=True, help="Say which rules decided what, and why.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the new ticket's ID.")
@pass_state
def new(state, sets, from_file, template, edit, no_auto, explain, quiet, **options):
    """Record a new request as a ticket, classified, prioritised and assigned by the rules.

    What you give is kept; the rules in rules.yaml fill in the type, category, team and
    priority, and the assignment strategies pick the engineer. Required fields depend on
    the type (see `svcdesk fields --type TYPE`); on a terminal svcdesk asks for missing
    ones, anywhere else it refuses and names them.

    \b
    Examples:
      svcdesk new --title "打印机卡纸" --customer 张伟 --phone 13800000000 \\
          --product "LP-404 激光打印机" --purchased 2026-05-20 --description "频繁卡纸"
      svcdesk new --template printer-jam --customer 张伟 --phone 13800000000
      svcdesk new --from request.yaml -q        # print only the new number
      svcdesk new --edit                        # fill in a form in $EDITOR
    """
    from svcdesk.app import intake

    desk = state.desk()
    terminal = sys.stdin.isatty() and not quiet
    preset = intake.preset(desk, template) if template else None
    if preset is None and terminal and not (from_file or edit or sets or any(
            v is not None for v in options.values())):
        preset = _offer_presets(desk)
    given = preset.given() if preset else {}
    if from_file:
        text = _read_text(from_file)
        given.update(intake.read_values(text, from_file))
    given.update({COMMON[k]: v for k, v in options.items() if v is not None})
    given.update(dict(sets))
    if edit:
        given = _edit_new(desk, given, not no_auto)
    elif sys.stdin.isatty():
        given = _prompt_missing(desk, given, not no_auto, preset.ask if preset else ())
        if preset and preset.description and given.get("description") == preset.description:
            given["description"] = _ask_questions(preset)
    outcome = intake.create_ticket(desk, given, auto=not no_auto)
    ticket = outcome.ticket
    if quiet:
        echo(ticket.number)
        return
    from svcdesk.cli.work import report_outcome

    echo(f"{style(ticket.number, bold=True)}  {ticket.fields.get('title', '')}")
    report_outcome(desk, outcome, explain)
    said = _recognised(desk.rules, ticket.fields)
    if said:
        echo("  " + said)
    if terminal:
        _show_similar(desk, ticket.number)


def _recognised(rules, f: dict) -> str:
    """What the desk's records told the new ticket: the customer and the unit it is about."""
    customer, product = f.get("customer") or {}, f.get("product") or {}
    parts = []
    if customer.get("id"):
        about = [rules.label("tiers", customer["tier"])] if customer.get("tier") else []
        about += [customer["region"]] if customer.get("region") else []
        parts.append(f"客户 {customer['id']} {customer.get('name') or ''}"
                     + (f"（{'，'.join(about)}）" if about else ""))
    if product.get("serial") and product.get("warranty"):
        parts.append(f"设备 {product['serial']} "
                     f"{rules.label('warranty', product['warranty'])}")
    return " · ".join(parts)


def _read_text(path: str) -> str:
    """The text of --from's file (- for standard input), as UTF-8 either way."""
    try:
        if path == "-":
            return sys.stdin.buffer.read().decode("utf-8")
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--from {path}: no such file") from None
    except UnicodeDecodeError:
        raise UsageError(f"--from {path}: not UTF-8 text") from None


def _offer_presets(desk):
    """On a terminal: the ticket templates by number, one picked or none (Enter)."""
    from svcdesk.app import intake

    found = intake.presets(desk)
    if not found:
        return None
    language = desk.rules.language
    for i, preset in enumerate(found, 1):
        echo(f"  {i:>2}  {preset.label_in(language)}  " + style(preset.name, dim=True))
    choice = click.prompt("模板 template (Enter: none)", default="", show_default=False,
                          type=click.Choice([""] + [str(i) for i in range(1, len(found) + 1)]
                                            + [p.name for p in found]), show_choices=False)
    if not choice:
        return None
    return found[int(choice) - 1] if choice.isdigit() else \
        next(p for p in found if p.name == choice)


def _ask_questions(preset) -> str:
    """The template's description skeleton, each of its questions asked on the terminal
    (Enter leaves one for later)."""
    from svcdesk.app import intake

    answers = {q: click.prompt(q, default="", show_default=False).strip()
               for q in preset.questions()}
    return intake.answered(preset, answers)


def _prompt_missing(desk, given: dict, auto: bool, ask=()) -> dict:
    """Ask on the terminal for each required field still missing (after the rules had
    their say, when they run), and for the fields a template asks for."""
    from svcdesk.app import intake
    from svcdesk.base.model import get_path

    values = intake.check_values(desk, given)
    if auto:
        values = intake.decide(desk, intake.derived(desk, values)).values
    required = intake.missing_fields(desk, values)
    wanted = required + [f for f in ask if f not in required
                         and get_path(values, f) in (None, "", [])]
    for name in wanted:
        spec = desk.rules.schema.specs[name]
        optional = name not in required  # a template's question: Enter skips it

        def check(text, name=name, optional=optional):
            if optional and not text.strip():
                return None
            try:
                intake.check_values(desk, {name: text})
            except ValidationError as exc:  # ask again, saying what was wrong
                raise click.BadParameter(str(exc).split(": ", 1)[-1]) from None
            return text

        hint = f" [{', '.join(spec.choices)}]" if spec.type == "enum" else ""
        answer = click.prompt(f"{spec.label} ({name}){hint}", value_proc=check,
                              **({"default": "", "show_default": False} if optional else {}))
        if answer is not None:
            given[name] = answer
        if name == "type":
            return _prompt_missing(desk, given, auto, ask)
    return given



def _edit_new(desk, given: dict, auto: bool) -> dict:
    from svcdesk.app import intake

    values = intake.check_values(desk, given)
    kind = intake.decide(desk, intake.derived(desk, values)).values.get("type") if auto \
        else values.get("type")
    text = click.edit(intake.form_text(desk, values, kind), extension=".yaml")
    if text is None:
        raise UsageError("the form was not saved; no ticket was made")
    values = intake.read_values(text, "the form")
    if not values:
        raise UsageError("the form is empty; no ticket was made")
    return values


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("--format", "fmt", type=click.Choice(("text", "yaml", "json")), default="text",
              show_default=True, help="text for people; yaml (the file) or json for scripts.")
@click.option("--similar", "with_similar", is_flag=True,
              help="Also show the closest solved tickets and knowledge-base articles.")
@pass_state
def show(state, ticket, fmt, with_similar):
    """Show one ticket with its timeline."""
    desk = state.desk()
    if fmt == "yaml":
        echo(desk.read_file(ticket).decode("utf-8"), nl=False)
        return
    from svcdesk.app import clocks

    found = desk.load(ticket)
    level = clocks.service_level(desk, found)
    linked = []
    if found.fields.get("links"):
        from svcdesk.app import links

        linked = links.shown(desk, found)
    if fmt == "json":
        from svcdesk.base import model

        from svcdesk.app import sync

        data = model.for_json(desk.rules.schema, model.to_plain(found))
        if level is not None:  # the clocks as of now, besides the sla: block as kept
            data["clocks"] = level.plain()
        data["provisional"] = sync.provisional(desk, found)
        if with_similar:
            from svcdesk.app import knowledge

            near = knowledge.similar(desk, found.number)
            data["similar"] = [{"id": h.number, "title": h.title, "score": round(h.score, 3),
                                "resolution": h.resolution} for h in near.tickets]
            data["articles"] = [{"name": a.name, "title": a.title} for a, _ in near.articles]
        data["conflicts"] = [{"event": c.event.id, "field": c.path, "made_on": c.made_on,
                              "found": c.found} for c in sync.conflicts(found)]
        if linked:  # the numbers, titles and statuses of what links.* names by uid
            data["linked"] = [{"as": slot, "id": number, "title": title, "status": status}
                              for slot, number, title, status in linked]
        echo(as_json(data))
        return
    from svcdesk.app import attachments, sync
    from svcdesk.cli.view import render_ticket

    echo(render_ticket(found, desk.rules, level, sync.conflicts(found),
                       sync.provisional(desk, found), attachments.listing(desk, found),
                       linked))
    if with_similar:
        _show_similar(desk, found.number)


def _show_similar(desk, number: str) -> None:
    """The closest solved tickets and articles, after a ticket."""
    from svcdesk.app import knowledge
    from svcdesk.cli.answers import similar_lines

    lines = similar_lines(desk, knowledge.similar(desk, number))
    if lines:
        echo("")
        echo("\n".join(lines))


def _split(values) -> tuple:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@click.command("list")
@click.option("--status", multiple=True, shell_complete=completes("statuses"),
              help="Statuses to show (default: open ones; 'all').")
@click.option("--type", "types", multiple=True, shell_complete=completes("types"),
              help="Ticket types.")
@click.option("--priority", multiple=True, shell_complete=completes("priorities"),
              help="Priorities.")
@click.option("--assignee", multiple=True, shell_complete=completes("agents"),
              help="Agents ('me' for yourself).")
@click.option("--team", multiple=True, shell_complete=completes("teams"), help="Teams.")
@click.option("--customer", help="Text in the customer's name, company, phone...")
@click.option("--product", help="Text in the product's model, serial...")
@click.option("--since", type=DAY, help="Created on or after this day.")
@click.option("--until", type=DAY, help="Created on or before this day.")
@click.option("--text", help="Text in the title or description.")
@click.option("--sort", type=click.Choice(("created", "updated", "priority", "status", "id",
                                           "assignee", "type")), default="created",
              show_default=True, help="The order (newest or highest first).")
@click.option("--asc", is_flag=True, help="Oldest (or lowest) first.")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True, help="table for people; json, csv or yaml for scripts.")
@BOM
@pass_state
def list_(state, status, types, priority, assignee, team, customer, product, since, until,
          text, sort, asc, limit, fmt, bom):
    """List tickets, newest first (open ones unless --status says otherwise).

    \b
    Examples:
      svcdesk list --assignee me
      svcdesk list --status all --type fault --since 2026-11-01 --format json
      svcdesk list --status waiting,resolved --sort updated --asc
    """
    from svcdesk.app import lookup

    desk = state.desk()
    flt = lookup.choose(desk, _split(status), _split(types), _split(priority),
                        _split(assignee), _split(team), open_by_default=True,
                        customer=customer, product=product, since=since, until=until,
                        text=text)
    listing = lookup.listing(desk, flt, sort, not asc, limit, brief=fmt == "table",
                           present=lambda found: _listing_text(desk, found, fmt, bom))
    page(listing.shown, state.pager)
    return _report_problems(listing.problems)


def _listing_text(desk, found, fmt: str, bom: bool = True) -> str:
    """What `list` prints of ``found`` (a Listing), in ``fmt``."""
    tickets = found.tickets
    if fmt == "table":
        from svcdesk.cli.view import render_list, words

        table = render_list(tickets, desk.rules) + "\n" if tickets else ""
        said = words(desk.rules)
        cut = found.total is not None and found.total > len(tickets)  # by --limit
        count = (said["count_of"].format(n=len(tickets), total=found.total) if cut else
                 said["count"].format(n=len(tickets)))
        return table + style(count, dim=True) + "\n"
    if fmt == "json":
        from svcdesk.base import model

        schema = desk.rules.schema
        return as_json([model.for_json(schema, t) for t in tickets]) + "\n"
    if fmt == "yaml":
        from svcdesk.app import lookup

        return lookup.to_yaml(tickets) if tickets else "[]\n"
    from svcdesk.base import model

    flat = [model.flatten(t) for t in tickets]
    columns = [c for c in desk.rules.schema.specs if any(c in row for row in flat)]
    return as_csv(flat, columns, bom)


@click.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--status", multiple=True, shell_complete=completes("statuses"),
              help="Only these statuses (default: all; 'all').")
@click.option("--type", "types", multiple=True, shell_complete=completes("types"),
              help="Only these ticket types.")
@click.option("--assignee", multiple=True, shell_complete=completes("agents"),
              help="Only these agents ('me' for yourself).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Show at most this many.")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")),
              default="table", show_default=True,
              help="table for people; json or csv for scripts.")
@click.option("--kb", "with_kb", is_flag=True,
              help="Search the knowledge base (kb/) as well: its articles come after the "
                   "tickets, ids kb/NAME.")
@BOM
@pass_state
def search(state, text, status, types, assignee, limit, fmt, bom, with_kb):
    """Find tickets by words in their title, description, comments, customer or product.

    Every word must occur (Chinese needs no spaces: 卡纸 finds 频繁卡纸); the best matches
    come first, each with the text around the match.

    \b
    Examples:
      svcdesk search 卡纸
      svcdesk search printer jam --status closed --format json
    """
    from svcdesk.app import lookup

    desk = state.desk()
    flt = lookup.choose(desk, _split(status), _split(types), assignees=_split(assignee))
    articles = []
    if with_kb:
        from svcdesk.app import knowledge

        articles = knowledge.search_articles(desk, " ".join(text), limit)
    found = lookup.search(desk, " ".join(text), flt, limit,
                          present=lambda found: _hits_text(desk, found.tickets, fmt, bom,
                                                           articles))
    page(found.shown, state.pager)
    return _report_problems(found.problems)


def _hits_text(desk, hits: list, fmt: str, bom: bool = True, articles=()) -> str:
    """What `search` prints, in ``fmt``; ``articles`` [(Article, score)] from the
    knowledge base come after the tickets."""
    rows = [{"id": h.fields["id"], "title": h.fields.get("title"),
             "status": h.fields.get("status"), "priority": h.fields.get("priority"),
             "type": h.fields.get("type"), "assignee": h.fields.get("assignee"),
             "score": round(h.score, 4), "snippet": h.snippet} for h in hits]
    rows += [{"id": f"kb/{a.name}", "title": a.title, "status": None, "priority": None,
              "type": "kb", "assignee": None, "score": round(score, 4),
              "snippet": " ".join(a.body.split())[:80]} for a, score in articles]
    if fmt == "json":
        return as_json(rows) + "\n"
    if fmt == "csv":
        return as_csv(rows, list(rows[0]) if rows else ["id", "title", "status", "priority",
                                                        "type", "assignee", "score",
                                                        "snippet"], bom)
    from svcdesk.cli.view import render_hits, words

    w = words(desk.rules)
    table = render_hits(hits, desk.rules) + "\n" if hits else ""
    table += style(w["found"].format(n=len(hits)), dim=True) + "\n"
    if articles:
        table += "\n" + style(w["kb"], bold=True) + "\n" + "\n".join(
            f"  kb/{a.name}  {a.title}" for a, _ in articles) + "\n"
    return table


def _report_problems(problems: list) -> int:
    for problem in problems:
        echo(f"Warning: {problem}", err=True)
    if problems:
        echo(f"Error: {len(problems)} ticket file(s) could not be read and are not "
             "listed", err=True)
        return ExitCode.TICKET_FILE
    return ExitCode.OK


@click.command()
@click.argument("ticket", type=TICKET_ID)
@pass_state
def edit(state, ticket):
    """Edit a ticket's fields in $EDITOR; a bad edit changes nothing."""
    desk = state.desk()
    if not sys.stdin.isatty() and not (os.environ.get("VISUAL") or os.environ.get("EDITOR")):
        raise UsageError("no editor: set EDITOR (or run on a terminal)")
    from svcdesk.app import work

    form, original = work.edit_form(desk, ticket)
    text = click.edit(form, extension=".yaml")
    if text is None or text == form:
        echo("No changes.")
        return
    result = work.apply_edit(desk, ticket, text, original)
    echo(f"{result.number}: {'saved' if result.events[-1].action == 'edit' else 'no changes'}")


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("-m", "--message", help="What happened (已远程排查，确认主板故障); after the "
                                      "canned reply, with --reply.")
@click.option("--reply", metavar="NAME",
              help="Answer with a canned reply (`svcdesk replies` lists them).")
@click.option("--internal", is_flag=True, help="An internal note the customer never sees.")
@pass_state
def comment(state, ticket, message, reply, internal):
    """Write progress on a ticket, in your words (-m) or a canned reply (--reply)."""
    from svcdesk.app import work

    if not message and not reply:
        raise UsageError("comment needs -m TEXT or --reply NAME")
    result = work.comment(state.desk(), ticket, message, internal, reply)
    echo(f"{result.number}: {'internal note' if internal else 'comment'} added")


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="table for people; json for scripts.")
@pass_state
def log(state, ticket, fmt):
    """The audit trail of a ticket from git: when, who, what, commit."""
    desk = state.desk()
    from svcdesk.app import admin

    entries = admin.log(desk, ticket)
    if fmt == "json":
        echo(as_json([{"commit": e.commit, "author": e.author, "email": e.email,
                       "when": e.when.isoformat(), "action": e.action, "subject": e.subject}
                      for e in entries]))
        return
    from svcdesk.cli.output import table

    tz = desk.rules.tz
    page(table([[e.when.astimezone(tz).strftime("%Y-%m-%d %H:%M"), e.author, e.action,
                 e.subject.split(": ", 1)[-1], e.commit[:10]] for e in entries],
               ["when", "who", "action", "what", "commit"]) + "\n", state.pager)


@click.command()
@click.option("--type", "kind", help="Mark the fields this type requires.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="table for people; json for scripts.")
@pass_state
def fields(state, kind, fmt):
    """The ticket fields this desk knows, and which each type requires."""
    rules = state.desk().rules
    if kind is not None and kind not in rules.types:
        raise UsageError(f"unknown type {kind!r} (types: {', '.join(rules.types)})")
    kinds = [kind] if kind else list(rules.types)
    rows = []
    for name, spec in rules.schema.specs.items():
        needed = [k for k in kinds if name in rules.types[k].required]
        if kind and not spec.editable:
            continue
        rows.append({"field": name, "type": spec.type, "label": spec.label,
                     "label_en": spec.label_en, "required_by": needed,
                     "set_by": "you" if spec.editable else "svcdesk",
                     "accepts": spec.describe()})
    if fmt == "json":
        echo(as_json(rows))
        return
    from svcdesk.cli.output import table

    echo(table([[r["field"], r["label"], r["type"], ", ".join(r["required_by"]),
                 r["set_by"]] for r in rows], ["field", "label", "type", "required by",
                                               "set by"]))


COMMANDS = (new, show, list_, search, edit, comment, log, fields)
