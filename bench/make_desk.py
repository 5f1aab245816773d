"""Make a realistic benchmark desk: python bench/make_desk.py DIR --tickets N.

With --customers N and --units N, the desk also keeps that many customer records and units
sold (each unit a random customer's), and each ticket is about one of the units (or, with no
units, one of the customers), linked as `svcdesk new` would link it.

Tickets are spread over several years ending at SVCDESK_NOW (or now), with the mix a real
desk has: almost all older tickets closed, about 2% open. The history is written with one
`git fast-import`, one commit per day of tickets (one per ticket would make fast-import
rewrite a month's tree 100,000 times), then checked out. With ``--history changes`` every
change of every ticket is its own commit, in time order, as svcdesk itself commits them: a
desk of N tickets then has about 6 N commits (for `svcdesk log` on a long history).
"""

import argparse
import functools
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from svcdesk.adapters import records as record_files
from svcdesk.adapters import store
from svcdesk.app import admin
from svcdesk.base import clock
from svcdesk.base.identity import new_ulid
from svcdesk.domain import records, sample

_RECORDS: dict = {"customers": [], "units": []}  # made in main, inherited by the workers

# Plain YAML scalars we write unquoted; anything else is written as a JSON string, which is
# a valid YAML double-quoted scalar. PyYAML's emitter would cost ~1 ms a ticket here.
_PLAIN = re.compile(r"^[\w\u4e00-\u9fff\u3000-\u303f\uff00-\uffef][\w\u4e00-\u9fff\u3000-\u303f"
                    r"\uff00-\uffef .,/()+\-]*$")
_RESERVED = {"null", "Null", "NULL", "~", ""}


@functools.lru_cache(maxsize=65536)
def scalar(value: str) -> str:
    """A YAML scalar for ``value`` that svcdesk's loader reads back as the same text."""
    if _PLAIN.match(value) and value not in _RESERVED and not value.endswith((" ", ":")):
        return value
    return json.dumps(value, ensure_ascii=False)


def emit(data, indent: str = "") -> list:
    """Block-style YAML lines for text-only data (str, list, dict)."""
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:")
            lines += emit(value, indent + "  ")
        elif isinstance(value, list):
            lines.append(f"{indent}{key}:")
            for item in value:
                if isinstance(item, dict):
                    inner = emit(item, indent + "  ")
                    lines.append(f"{indent}- {inner[0].lstrip()}")
                    lines += inner[1:]
                else:
                    lines.append(f"{indent}- {scalar(item)}")
        else:
            lines.append(f"{indent}{key}: {scalar(value)}")
    return lines


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def make_ticket(rng, rules, number, created, now, open_ticket):
    """The plain data of one ticket with a short, believable history."""
    kind, title, description, product, category, expected, impact, urgency, channel, extra = \
        sample.REQUESTS[rng.randrange(len(sample.REQUESTS))]
    name, company, phone, email, address, region, tier = \
        sample.CUSTOMERS[rng.randrange(len(sample.CUSTOMERS))]
    unit, known = None, None
    if _RECORDS["units"]:
        unit = _RECORDS["units"][rng.randrange(len(_RECORDS["units"]))]
        known = _RECORDS["customers"][unit["index"]]
    elif _RECORDS["customers"]:
        known = _RECORDS["customers"][rng.randrange(len(_RECORDS["customers"]))]
    if known:
        name, company, region, tier = (known["name"], known.get("company"), known["region"],
                                       known["tier"])
        phone, email = known["phones"][0], known["emails"][0]
    customer = {k: v for k, v in (("id", known and known["id"]), ("name", name),
                                  ("company", company or f"{name}（个人）"),
                                  ("phone", phone), ("email", email), ("address", address),
                                  ("region", region), ("tier", tier)) if v}
    fields = {"id": number, "uid": new_ulid(created), "title": title, "type": kind,
              "category": category, "priority": rules.types[kind].priority or "P3",
              "status": "new", "channel": channel, "customer": customer}
    model = product or "X1-Pro 笔记本"
    purchased = (created - timedelta(days=rng.randrange(30, 700))).date()
    serial = f"SN{rng.randrange(10**9):09d}"
    if unit:
        model, serial = unit["model"], unit["id"]
        purchased = datetime.fromisoformat(unit["purchased"]).date()
    fields["product"] = {"model": model, "serial": serial,
                         "purchased": purchased.isoformat(),
                         "warranty": records.warranty({"purchased": purchased}, created.date(),
                                                      rules.warranty_months_of(model)),
                         "order_no": f"JD{rng.randrange(10**11):011d}"}
    if kind == "maintenance":
        fields["product"]["version"] = "V4.2.1"
    fields["description"] = description
    if kind == "return":
        fields["return_reason"] = extra.get("return_reason", "defect")
    if kind == "invoice":
        fields["invoice"] = {"title": customer["company"],
                             "tax_id": f"91330{rng.randrange(10**13):013d}",
                             "amount": f"{rng.randrange(2, 90) * 100}.00"}
    if expected:
        fields["expected"] = expected
    intake = rng.choice(sample.INTAKE)
    handler = rng.choice(sample.HANDLERS[kind])
    events = [{"id": new_ulid(created), "at": iso(created), "by": intake, "action": "create",
               "fields": dict(fields)}]
    at = created
    state = dict(fields)
    states = [dict(state)]  # the fields after each event

    def step(action, minutes, by, changes=None, note=None):
        nonlocal at
        at = at + timedelta(minutes=minutes)
        event = {"id": new_ulid(at), "at": iso(at), "by": by, "action": action}
        if changes:
            event["changes"] = {}
            for key, new in changes.items():
                pair = {"from": state[key]} if state.get(key) is not None else {}
                pair["to"] = new
                event["changes"][key] = pair
                state[key] = new
        if note:
            event["note"] = note
            event["visibility"] = "public"
        events.append(event)
        states.append(dict(state))

    team = rules.agents[handler].team
    step("assign", rng.randrange(5, 90), intake, {"status": "assigned", "assignee": handler,
                                                    "team": team})
    step("start", rng.randrange(10, 240), handler, {"status": "in_progress"})
    step("comment", rng.randrange(30, 600), handler, note=sample.PROGRESS[kind][0])
    if not open_ticket:
        step("resolve", rng.randrange(60, 4000), handler,
             {"status": "resolved", "resolution": sample.RESOLUTIONS[kind]})
        csat = rng.choices((5, 4, 3, 2, 1), weights=(50, 28, 12, 6, 4))[0]
        step("close", rng.randrange(600, 4000), intake,
             {"status": "closed", "csat": str(csat), "feedback": "整体满意。"})
    if at >= now:  # keep the history in the past
        shift = at - now + timedelta(minutes=1)
        for event in events:
            event["at"] = iso(datetime.fromisoformat(event["at"]) - shift)
        created -= shift
    order = ["id", "uid", "title", "type", "category", "priority", "status", "channel",
             "customer", "product", "description", "return_reason", "invoice", "expected",
             "assignee", "team", "created", "updated", "resolution", "csat", "feedback"]

    def shaped(upto: int) -> dict:
        """The ticket file's data after its first ``upto`` events."""
        snapshot = dict(states[upto - 1])
        snapshot["created"] = events[0]["at"]
        snapshot["updated"] = events[upto - 1]["at"]
        out = {k: snapshot[k] for k in order if snapshot.get(k) is not None}
        out["events"] = events[:upto]
        return out

    stages = [(shaped(n), events[n - 1]) for n in range(1, len(events) + 1)]
    return stages[-1][0], events[-1]["by"], events[0]["at"], stages


def make_records(rng, customers: int, units: int, moment: datetime, rules) -> list:
    """Customer and unit records as svcdesk writes them, all added at ``moment``:
    [(path, body)]; they are also kept in _RECORDS for the tickets to name."""
    out = []
    at = iso(moment)

    def record(kind, key, fields):
        fields = {"id": key, "uid": new_ulid(moment), **fields}
        snapshot = {**fields, "created": at, "updated": at}
        data = {**snapshot, "events": [{"id": new_ulid(moment), "at": at, "by": "sun.li",
                                        "action": "create", "fields": fields}]}
        out.append((record_files.relpath(kind, key), ("\n".join(emit(data)) + "\n").encode()))

    regions = ("杭州", "宁波", "绍兴", "苏州", "上海")
    for i in range(customers):
        name, company = sample.CUSTOMERS[i % len(sample.CUSTOMERS)][:2]
        key = records.customer_id(new_ulid(moment))
        fields = {"kind": "organisation" if company else "person",
                  "name": f"{name}{i}", "company": f"{company}{i}" if company else None,
                  "phones": [f"139{i:08d}"], "emails": [f"c{i}@example.cn"],
                  "region": regions[rng.randrange(len(regions))],
                  "tier": rng.choices(("standard", "vip", "key"), weights=(85, 10, 5))[0]}
        fields = {k: v for k, v in fields.items() if v is not None}
        _RECORDS["customers"].append(dict(fields, id=key))
        record("customer", key, fields)
    models = list(rules.products)
    for i in range(units if customers else 0):
        model = models[rng.randrange(len(models))]
        bought = (moment - timedelta(days=rng.randrange(0, 1400))).date()
        index = rng.randrange(customers)
        fields = {"model": model, "customer": _RECORDS["customers"][index]["id"],
                  "purchased": bought.isoformat(),
                  "warranty_end": records.warranty_end(
                      bought, rules.warranty_months_of(model)).isoformat()}
        _RECORDS["units"].append(dict(fields, id=f"BN{i:09d}", index=index))
        record("unit", f"BN{i:09d}", fields)
    return out


def _chunk(job):
    """Generate one chunk of tickets in a worker: [(path, body, author, when, subject)], one
    entry per ticket, or (with ``changes``) one per change of each ticket."""
    folder, seed, items, changes = job
    os.environ.setdefault("SVCDESK_AGENT", "wang.fang")
    rules = store.read_rules(Path(folder))
    rng = random.Random(seed)
    now = clock.now(rules.tz)
    out = []
    for k, (number, moment, open_ticket) in enumerate(items):
        data, by, when, stages = make_ticket(rng, rules, number, moment, now, open_ticket)
        body = ("\n".join(emit(data)) + "\n").encode()
        if k % 50 == 0:  # what we write must read back unchanged, history and all
            from svcdesk.base import model

            for text in [body] + ([("\n".join(emit(st)) + "\n").encode() for st, _ in stages]
                                  if changes else []):
                ticket = store.decode_ticket(rules.schema, text.decode(), number)
                assert not model.hand_edits(ticket), number
        if changes:
            for stage, event in stages:
                agent = rules.agents[event["by"]]
                out.append((store.ticket_relpath(number),
                            ("\n".join(emit(stage)) + "\n").encode(),
                            f"{agent.name} <{agent.email}>",
                            int(datetime.fromisoformat(event["at"]).timestamp()),
                            f"{number}: {event['action']}"))
            continue
        agent = rules.agents[by]
        out.append((store.ticket_relpath(number), body, f"{agent.name} <{agent.email}>",
                    int(datetime.fromisoformat(when).timestamp()),
                    f"{number}: new {data['type']} ticket: {data['title']}"))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--years", type=float, default=4.0)
    parser.add_argument("--open", type=float, default=0.02, help="share of tickets still open")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--customers", type=int, default=0, help="customer records")
    parser.add_argument("--units", type=int, default=0, help="units sold (needs customers)")
    parser.add_argument("--history", choices=("days", "changes"), default="days",
                        help="one commit per day of new tickets (fast), or one per change")
    args = parser.parse_args(argv)
    started = time.monotonic()
    os.environ.setdefault("SVCDESK_AGENT", "wang.fang")
    desk = admin.init(args.folder)
    rules = desk.rules
    now = clock.now(rules.tz)
    rng = random.Random(args.seed)
    span = timedelta(days=365 * args.years)
    moments = sorted((now - span * rng.random()).replace(microsecond=0)
                     for _ in range(args.tickets))
    kept = make_records(rng, args.customers, args.units,
                        (now - span - timedelta(days=1)).replace(microsecond=0), rules)
    open_from = len(moments) - int(len(moments) * args.open)
    sequence: dict = {}
    items = []
    for i, moment in enumerate(moments):
        day = moment.date()
        sequence[day] = sequence.get(day, 0) + 1
        items.append((f"{rules.prefix}-{day:%Y%m%d}-{sequence[day]:04d}", moment,
                      i >= open_from))
    size = 500
    changes = args.history == "changes"
    jobs = [(str(desk.root), f"{args.seed}-{n}", items[n:n + size], changes)
            for n in range(0, len(items), size)]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=desk.root, capture_output=True,
                          text=True, check=True).stdout.strip()
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=desk.root,
                            stdin=subprocess.PIPE)
    write = proc.stdin.write
    first, day, batch = True, None, []

    def flush(subject=None, records_=False):
        nonlocal first
        if not batch:
            return
        author, epoch = batch[-1][2], batch[-1][3]
        if records_:
            trailers = "Svcdesk-Action: import\n"
        elif subject:  # one change: the trailers svcdesk writes (number: action)
            number, action = subject.split(": ", 1)
            trailers = f"Svcdesk-Ticket: {number}\nSvcdesk-Action: {action}\n"
        else:
            subject, trailers = f"{len(batch)} ticket(s) of {day}", "Svcdesk-Action: import\n"
        message = f"{subject}\n\n{trailers}".encode()
        write(f"commit refs/heads/main\nauthor {author} {epoch} +0800\n"
              f"committer {author} {epoch} +0800\n".encode())
        write(b"data %d\n%s\n" % (len(message), message))
        if first:
            write(f"from {head}\n".encode())
            first = False
        for path, body, *_ in batch:
            write(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(body), body))
        batch.clear()

    if kept:  # the records first, in one commit, as an import from the sales system would
        when = int((now - span - timedelta(days=1)).timestamp())
        batch.extend((path, body, "孙丽 <sun.li@example.com>", when) for path, body in kept)
        day = "records"
        flush(f"{len(_RECORDS['customers'])} customers and {len(_RECORDS['units'])} units",
              records_=True)
        day = None
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        if changes:  # every change its own commit, in the order they happened
            entries = [e for chunk in pool.imap(_chunk, jobs) for e in chunk]
            entries.sort(key=lambda e: e[3])
            for entry in entries:
                batch.append(entry)
                flush(entry[4])
            entries.clear()
        for chunk in ([] if changes else pool.imap(_chunk, jobs)):
            for entry in chunk:
                number_day = entry[0].rsplit("/", 1)[1].split("-")[1]
                if number_day != day:
                    flush()
                    day = number_day
                batch.append(entry)
    flush()
    write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        print("git fast-import failed", file=sys.stderr)
        return 1
    imported = time.monotonic()
    subprocess.run(["git", "reset", "-q", "--hard", "HEAD"], cwd=desk.root, check=True)
    subprocess.run(["git", "commit-graph", "write", "--reachable", "--changed-paths"],
                   cwd=desk.root, check=True, capture_output=True)
    print(f"{args.tickets} tickets ({args.tickets - open_from} open) in {desk.root}: "
          f"history {imported - started:.1f} s, checkout and commit-graph "
          f"{time.monotonic() - imported:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
