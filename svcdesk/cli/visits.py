"""On-site visits: book one, the engineer's departure, arrival and leaving, the week's
calendar."""

from datetime import datetime, timedelta

import click

from svcdesk.app import visits
from svcdesk.cli.output import as_json, clip, echo, style, table
from svcdesk.cli.params import DAY, TICKET_ID, completes

pass_state = click.pass_obj


def _said(desk, ticket) -> None:
    f = ticket.fields
    visit = f.get("visit") or {}
    rules = desk.rules
    parts = [f"{rules.label('statuses', f['status'])} ({f['status']})"]
    if visit.get("at"):
        parts.append(f"上门 {visit['at'].astimezone(rules.tz):%m-%d %H:%M}"
                     + (f"–{visit['until'].astimezone(rules.tz):%H:%M}"
                        if visit.get("until") else "")
                     + f" {rules.label('agents', visit.get('engineer'))}")
    for key, word in (("departed", "出发"), ("arrived", "到达"), ("left", "离开")):
        if visit.get(key):
            parts.append(f"{word} {visit[key].astimezone(rules.tz):%H:%M}")
    echo(f"{style(ticket.number, bold=True)}: " + " · ".join(parts))


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("--at", "at", required=True, metavar="TIME",
              help="When the visit starts: 2026-12-08 14:00 (the desk's time zone).")
@click.option("--until", metavar="TIME",
              help="When the window ends: 16:00, or a full time (default: two hours).")
@click.option("--engineer", metavar="AGENT", shell_complete=completes("agents"),
              help="Who goes (default: the assignee).")
@click.option("-m", "--message", help="A note for the customer (请提前备好购机发票).")
@pass_state
def visit(state, ticket, at, until, engineer, message):
    """Book an on-site visit (上门服务) for a time window, or move it; the customer is told
    the window."""
    desk = state.desk()
    _said(desk, visits.book(desk, ticket, at, until, engineer, message))


def _step(name: str, summary: str):
    @click.command(name, help=summary)
    @click.argument("ticket", type=TICKET_ID)
    @click.option("-m", "--message", help="A note (堵车，预计晚到20分钟).")
    @pass_state
    def command(state, ticket, message):
        desk = state.desk()
        _said(desk, visits.record(desk, ticket, name, message))

    return command


depart = _step("depart", "The engineer sets off for the visit now (the customer is told).")
arrive = _step("arrive", "The engineer arrives on site now (travel time is kept).")
leave = _step("leave", "The engineer leaves the site now (time on site is kept).")


@click.command("visits")
@click.option("--week", "day", default="this", show_default=True,
              metavar="DAY", help="The week holding DAY: YYYY-MM-DD, this, next, tomorrow "
                                  "(明天)...")
@click.option("--engineer", metavar="AGENT", shell_complete=completes("agents"),
              help="Only this engineer's visits.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="table for people; json for scripts.")
@pass_state
def visits_command(state, day, engineer, fmt):
    """The visit calendar of a week (上门日程), per engineer and day."""
    desk = state.desk()
    rules = desk.rules
    today = desk.now().astimezone(rules.tz).date()
    words = {"this": today, "next": today + timedelta(days=7), "today": today, "今天": today,
             "tomorrow": today + timedelta(days=1), "明天": today + timedelta(days=1),
             "后天": today + timedelta(days=2)}
    day = words[day] if day in words else DAY.convert(day, None, click.get_current_context())
    monday, found = visits.week(desk, day, engineer)
    rows = []
    for f in found:
        v = f.get("visit") or {}
        start = datetime.fromisoformat(v["at"]).astimezone(rules.tz)
        until = datetime.fromisoformat(v["until"]).astimezone(rules.tz) if v.get("until") \
            else None
        state_said = ("done" if v.get("left") else "on site" if v.get("arrived") else
                      "on the way" if v.get("departed") else "booked")
        customer = f.get("customer") or {}
        rows.append({"engineer": v.get("engineer"), "day": f"{start:%Y-%m-%d}",
                     "from": f"{start:%H:%M}", "until": f"{until:%H:%M}" if until else None,
                     "ticket": f.get("id"), "title": f.get("title"),
                     "customer": customer.get("name") or customer.get("company"),
                     "address": customer.get("address") or customer.get("region"),
                     "phone": customer.get("phone"), "state": state_said})
    rows.sort(key=lambda r: (r["engineer"] or "", r["day"], r["from"]))
    if fmt == "json":
        echo(as_json({"week": f"{monday}", "visits": rows}))
        return
    if not rows:
        echo(f"No visits booked in the week of {monday}.")
        return
    weekdays = "一二三四五六日"
    echo(style(f"上门日程 {monday} 起的一周" if rules.language == "zh" else
               f"Visits, week of {monday}", bold=True))
    for who in dict.fromkeys(r["engineer"] for r in rows):
        mine = [r for r in rows if r["engineer"] == who]
        echo("")
        echo(style(f"{rules.label('agents', who)} ({who}) · {len(mine)}", bold=True))
        echo(table([[f"{r['day'][5:]} 周{weekdays[datetime.fromisoformat(r['day']).weekday()]}",
                     f"{r['from']}–{r['until'] or ''}", r["ticket"], clip(r["title"] or "", 24),
                     clip(r["customer"] or "", 10), clip(r["address"] or "", 16), r["state"]]
                    for r in mine],
                   ["day", "time", "ticket", "title", "customer", "where", "state"]))


COMMANDS = (visit, depart, arrive, leave, visits_command)
