"""The service review of a period: its figures from the index (and from the ticket files it
could not read, as far as they can be read), rendered from templates/reports/, committed
under reports/ or mailed."""

from pathlib import Path

from svcdesk.adapters import store
from svcdesk.adapters.change import trailers_for
from svcdesk.app import delivery
from svcdesk.app.desk import SYSTEM, Actor
from svcdesk.base.errors import DeliveryError, TemplateError, TicketFileError, UsageError
from svcdesk.base.fields import money
from svcdesk.domain import metrics, report, sla

KINDS = {"week": "weekly", "month": "monthly", "range": "range"}
# the periods a review covers (`--week 2026-W47|last|this`, `--month`, `--from/--to`), and
# its figures as rows for CSV
week, month, span, flat = report.week, report.month, report.span, report.flat


def review(desk, period, team: str | None = None, kind: str | None = None,
           customer: str | None = None, product: str | None = None) -> dict:
    """The service review of ``period`` (report.Period): every figure, the previous
    period's headline and the change, for the tickets the filters keep."""
    rules, tz = desk.rules, desk.rules.tz
    rows = desk.index.report_rows(period.previous().start, period.end)
    salvaged, warnings = _salvaged(desk, tz)
    stories = []
    for story in [report.Story.from_row(row, tz) for row in rows] + salvaged:
        f = story.fields
        if (team and f.get("team") != team) or (kind and f.get("type") != kind):
            continue
        people = " ".join(str(v) for v in (f.get("customer") or {}).values()).casefold()
        things = " ".join(str(v) for v in (f.get("product") or {}).values()).casefold()
        if (customer and customer.casefold() not in people) or (
                product and product.casefold() not in things):
            continue
        stories.append(story)
    vocabulary = {"agent": "agents", "team": "teams", "type": "types", "channel": "channels"}

    def labels(key, name):
        if name is None:
            return "—"
        table = vocabulary.get(key)
        return rules.label(table, name) if table else name

    filters = {k: v for k, v in (("team", team), ("type", kind), ("customer", customer),
                                 ("product", product)) if v}
    data = report.review(stories, period, rules, labels, filters)
    data["money"] = _money(desk, stories, period, labels, bool(filters))
    data["warnings"] = warnings
    return data


def _money(desk, stories: list, period, labels, filtered: bool) -> dict:
    """Fees charged and parts used in the period, and the parts below their minimum now."""
    from svcdesk.app import parts

    levels = parts.levels(desk) if (desk.root / "parts").is_dir() else []
    costs = {lv.part["id"]: (lv.part.get("name"), money(lv.part.get("unit_cost") or "0"))
             for lv in levels}
    low = [{"part": lv.part["id"], "name": lv.part.get("name"), "stock": lv.total,
            "minimum": lv.minimum} for lv in levels if lv.below]
    moves = desk.records.moves(period.start.timestamp(), period.end.timestamp()) \
        if levels else []
    return report.money(stories, period, moves, costs, low, labels, filtered)


def _salvaged(desk, tz) -> tuple:
    """Stories of the ticket files the index could not read, counted as far as their
    history can be read, and a warning naming each."""
    stories, warnings = [], []
    for problem in desk.index.problems():
        try:
            raw = (desk.root / problem.file).read_bytes()
            ticket, kept, total = store.salvage_ticket(desk.rules.schema, raw, problem.file)
        except (OSError, TicketFileError):
            warnings.append(f"{problem} (not counted)")
            continue
        figures = metrics.ticket_figures(
            ticket.events, response_actions=desk.rules.service.response_actions)
        stories.append(report.Story.from_ticket(ticket, figures["first_response_at"], tz))
        warnings.append(f"{problem} (counted from the {kept} of its {total} events that "
                        "can be read)")
    return stories, warnings


def render_report(desk, data: dict, fmt: str) -> str:
    """The review as Markdown or HTML from templates/reports/: monthly.md.j2 for a month
    when the desk has one, else weekly.md.j2 (which says what period it covers)."""
    from svcdesk.domain import charts

    own = KINDS[data["period"]["kind"]]
    context = {"r": data, "charts": charts.review_charts(data, desk.rules.language == "zh")
               if fmt == "html" else {}}
    renderer = delivery.renderer(desk)
    try:
        return renderer.text("reports", own, fmt, context)
    except TemplateError as exc:
        if own == "weekly" or "no such template" not in str(exc):
            raise
    return renderer.text("reports", "weekly", fmt, context)


def commit_report(desk, data: dict, fmt: str, text: str) -> tuple:
    """Commit a report under reports/ (one commit; none when the file is unchanged);
    return (its path, the commit or None)."""
    name = KINDS[data["period"]["kind"]]
    label = data["period"]["label"].replace("..", "_")
    relpath = f"reports/{name}-{label}.{fmt}"
    try:
        actor = desk.actor()
    except UsageError:  # cron without an agent: the desk itself
        actor = Actor(sla.SYSTEM, SYSTEM)
    now = desk.now()
    with desk.change(actor.key) as change:
        path = desk.root / relpath
        if path.exists() and path.read_bytes() == text.encode("utf-8") and \
                relpath.rsplit("/", 1)[1] in change.head_names("reports"):
            return relpath, None
        change.write(relpath, text.encode("utf-8"))
        sha = change.commit(f"report: {name} {data['period']['label']}",
                            f"{data['desk']}, {data['period']['start']} to "
                            f"{data['period']['end']}", trailers_for(None, "report"),
                            actor.identity, now)
    return relpath, sha


def write_out(desk, target: str, text: str, force: bool = False) -> Path:
    """Write a report to ``target``: a new file, or one this desk's `report --out` wrote and
    nobody changed since; any other existing file only with ``force`` (UsageError else: run
    as root, --out /etc/passwd must not be one typo away)."""
    import hashlib
    import json

    path = Path(target).expanduser().absolute()
    data = text.encode("utf-8")
    try:
        written = json.loads(desk.state.outputs.read_bytes())
    except (OSError, ValueError):
        written = {}
    if not isinstance(written, dict):
        written = {}
    if path.exists() and not force:
        try:
            now = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise UsageError(f"--out {path}: {exc.strerror or exc}") from None
        if written.get(str(path)) != now:
            raise UsageError(f"--out {path} exists and was not written by svcdesk's report "
                             "(or changed since); give --force to overwrite it")
    store.write_atomic(path, data)
    written[str(path)] = hashlib.sha256(data).hexdigest()
    try:
        desk.state.make_caches()
        store.write_atomic(desk.state.outputs, json.dumps(written, ensure_ascii=False)
                           .encode("utf-8"), sync=False)
    except OSError:
        pass  # the next run asks for --force: never the other way round
    return path


def mail_report(desk, data: dict, to: list, text: str, html: str | None) -> str:
    """Send a report by SMTP (the notices' delivery) to ``to`` (default: the manager);
    without SMTP it is kept in the outbox as an .eml, and DeliveryError says so: a mail that
    was asked for and not sent fails the run. Return where it went."""
    from svcdesk.adapters import mail

    rules = desk.rules
    manager = rules.agents.get(rules.manager) if rules.manager else None
    if not to or "manager" in to:
        if manager is None:
            raise UsageError("mail the report to whom? give --mail ADDRESS (or set "
                             "desk.manager in rules.yaml)")
        to = [a for a in to if a != "manager"] + [manager.email]
    n = rules.notices
    subject = f"{data['desk']} {data['period']['label']}"
    data_bytes = mail.report_message(subject, text, html, n.sender_name, n.sender_email, to,
                                     desk.now())
    smtp = delivery.smtp(desk)
    if smtp is None:
        folder = delivery.outbox(desk).path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"report-{data['period']['label'].replace('..', '_')}.eml"
        store.write_atomic(path, data_bytes)
        raise DeliveryError(f"the report was not mailed: no SMTP is configured (set "
                            f"notices.smtp in rules.yaml or SVCDESK_SMTP_URL); it is kept in "
                            f"{path}")
    sent, error = smtp.send([(None, data_bytes, mail.wire_address(n.sender_email),
                              [mail.wire_address(a) for a in to])])
    if error:
        raise DeliveryError(f"{error}; the report was not mailed")
    return f"mailed to {', '.join(to)} via {smtp.describe()}"
