"""Spare parts and fees: svcdesk parts add|show|stock|receive|adjust|use|return, and
svcdesk quote|approve|decline|charge on a ticket."""

import click

from svcdesk.cli.output import as_csv, as_json, echo, style, table
from svcdesk.cli.params import BOM, TICKET_ID

pass_state = click.pass_obj


class Money(click.ParamType):
    """An amount in yuan with at most two decimals."""

    name = "YUAN"

    def convert(self, value, param, ctx):
        from svcdesk.base.fields import money

        try:
            return money(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


MONEY = Money()
_QTY = click.option("--qty", type=int, default=1, show_default=True, help="How many units.")


@click.group()
def parts():
    """Spare parts (备件): the catalogue, stock per warehouse (rules.yaml warehouses), and
    the parts a ticket uses. Stock is the sum of each part's movements."""


@parts.command("add")
@click.argument("number")
@click.option("--name", required=True, help="What it is (定影组件).")
@click.option("--models", metavar="LIST", help="Compatible models, comma-separated.")
@click.option("--unit-cost", type=MONEY, help="What one costs the desk, in yuan.")
@click.option("--price", type=MONEY, help="What a customer pays for one out of warranty.")
@click.option("--minimum", type=click.IntRange(min=0), help="Warn below this many in stock.")
@click.option("--notes", help="Anything else.")
@pass_state
def parts_add(state, number, name, models, unit_cost, price, minimum, notes):
    """Add a part to the catalogue by its part NUMBER.

    \b
    Examples:
      svcdesk parts add RM1-2337 --name "定影组件 LP-404" --models "LP-404 激光打印机" \\
          --unit-cost 86.50 --price 180 --minimum 3
    """
    from svcdesk.app import records

    given = {k: v for k, v in (("name", name), ("models", models), ("unit_cost", unit_cost),
                               ("price", price), ("minimum", minimum), ("notes", notes))
             if v is not None}
    part = records.add(state.desk(), "part", given, key=number)
    echo(f"{part.fields['id']}  {part.fields.get('name')}")


@parts.command("receive")
@click.argument("number")
@click.argument("qty", type=int)
@click.option("--to", "warehouse", metavar="WAREHOUSE", help="Where it arrives (default: "
              "rules.yaml parts.warehouse).")
@click.option("-m", "--message", help="Where it came from (a delivery note...).")
@pass_state
def parts_receive(state, number, qty, warehouse, message):
    """Stock in: QTY units of part NUMBER arrive."""
    from svcdesk.app import parts as use_cases

    part = use_cases.receive(state.desk(), number, qty, warehouse, message)
    echo(_stock_line(state.desk().rules, part.fields))


@parts.command("adjust")
@click.argument("number")
@click.argument("count", type=int)
@click.option("--in", "warehouse", metavar="WAREHOUSE", help="Which warehouse was counted.")
@click.option("-m", "--message", required=True, help="Why (盘点, damaged...).")
@pass_state
def parts_adjust(state, number, count, warehouse, message):
    """A stocktake: part NUMBER's stock in a warehouse is COUNT."""
    from svcdesk.app import parts as use_cases

    part = use_cases.adjust(state.desk(), number, count, warehouse, message)
    echo(_stock_line(state.desk().rules, part.fields))


def _stock_line(rules, fields: dict) -> str:
    stock = fields.get("stock") or {}
    said = ", ".join(f"{rules.stock.warehouses.get(w, w)} {n}" for w, n in stock.items())
    return f"{fields['id']}  {fields.get('name') or ''}  库存 {said or '0'}"


@parts.command("use")
@click.argument("ticket", type=TICKET_ID)
@click.argument("number")
@_QTY
@click.option("--from", "warehouse", metavar="WAREHOUSE", help="Where it is taken from.")
@click.option("-m", "--message", help="What for.")
@pass_state
def parts_use(state, ticket, number, qty, warehouse, message):
    """Use QTY units of part NUMBER on TICKET: the stock goes down, the ticket records it."""
    from svcdesk.app import parts as use_cases

    found, part = use_cases.use(state.desk(), ticket, number, qty, warehouse, message)
    echo(f"{found.number}: {found.events[-1].note}")
    _warn_short(state.desk().rules, part.fields)


@parts.command("return")
@click.argument("ticket", type=TICKET_ID)
@click.argument("number")
@_QTY
@click.option("--to", "warehouse", metavar="WAREHOUSE", help="Where it goes back to.")
@click.option("-m", "--message", help="Why.")
@pass_state
def parts_return(state, ticket, number, qty, warehouse, message):
    """Give back QTY unused units of part NUMBER from TICKET to stock."""
    from svcdesk.app import parts as use_cases

    found, _ = use_cases.use(state.desk(), ticket, number, qty, warehouse, message, back=True)
    echo(f"{found.number}: {found.events[-1].note}")


def _warn_short(rules, fields: dict) -> None:
    for warehouse, count in (fields.get("stock") or {}).items():
        if int(count) < 0:
            echo(f"Warning: part {fields['id']} is short by {-int(count)} at "
                 f"{rules.stock.warehouses.get(warehouse, warehouse)} (backorder)", err=True)


@parts.command("stock")
@click.argument("number", required=False)
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table",
              show_default=True, help="table for people; json or csv for scripts.")
@BOM
@pass_state
def parts_stock(state, number, fmt, bom):
    """Stock per warehouse, parts below their minimum and short ones (below zero: a
    backorder, or two clones that each used the last unit) marked."""
    from svcdesk.app import parts as use_cases

    desk = state.desk()
    levels = use_cases.levels(desk, number)
    warehouses = list(desk.rules.stock.warehouses)
    rows = [{"part": lv.part["id"], "name": lv.part.get("name"), **lv.levels,
             "total": lv.total, "minimum": lv.minimum, "below_minimum": lv.below,
             "short": lv.short} for lv in levels]
    if fmt == "json":
        echo(as_json(rows))
        return
    if fmt == "csv":
        echo(as_csv(rows, ["part", "name", *warehouses, "total", "minimum", "below_minimum"],
                    bom=bom), nl=False)
        return
    if not rows:
        echo("No parts (`svcdesk parts add` adds one).")
        return
    labels = desk.rules.stock.warehouses
    echo(table([[r["part"], r["name"] or "", *(str(r[w]) for w in warehouses), str(r["total"]),
                 "" if r["minimum"] is None else str(r["minimum"]), _mark(r)] for r in rows],
               ["备件号", "名称", *(labels[w] for w in warehouses), "合计", "最低", ""]))


def _mark(row: dict) -> str:
    if row["short"]:
        return style("缺货 short", fg="red")
    return style("低于最低库存 below minimum", fg="yellow") if row["below_minimum"] else ""


@parts.command("show")
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True, help="text for people; json for scripts.")
@pass_state
def parts_show(state, number, fmt):
    """A part: catalogue entry, stock and every movement."""
    from svcdesk.app import records

    desk = state.desk()
    part = records.load(desk, "part", number)
    if fmt == "json":
        echo(as_json(records.plain(part)))
        return
    f = part.fields
    lines = [style(_stock_line(desk.rules, f), bold=True)]
    for name in ("models", "unit_cost", "price", "minimum"):
        if f.get(name) is not None:
            value = ", ".join(f[name]) if isinstance(f[name], list) else f[name]
            lines.append(f"{desk.rules.records['part'].specs[name].label}  {value}")
    moves = [[e.at.astimezone(desk.rules.tz).strftime("%Y-%m-%d %H:%M"), e.by, e.action,
              ", ".join(f"{p.split('.', 1)[1]} {int(new or 0) - int(old or 0):+d}"
                        for p, (old, new) in e.changes.items() if p.startswith("stock.")),
              (e.note or "").splitlines()[0] if e.note else ""]
             for e in part.events if any(p.startswith("stock.") for p in e.changes)]
    if moves:
        lines += ["", table(moves, ["时间", "经办", "动作", "数量", "说明"])]
    echo("\n".join(lines))


# ---- fees on a ticket --------------------------------------------------------------------------

@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.option("--labour", type=MONEY, help="Labour (default: the fee schedule).")
@click.option("--travel", type=MONEY, help="Travel (default: the schedule's, with --on-site).")
@click.option("--parts", "parts_", type=MONEY, help="Parts (default: those used, at price).")
@click.option("--on-site", is_flag=True, help="The repair is on site: travel is charged.")
@click.option("--not-covered", is_flag=True,
              help="Quote a ticket in warranty (damage the warranty does not cover).")
@click.option("-m", "--message", help="What the quote covers, for the customer.")
@pass_state
def quote(state, ticket, labour, travel, parts_, on_site, not_covered, message):
    """Quote an out-of-warranty repair (保外报价): labour, travel and parts, from the fee
    schedule in rules.yaml and the parts the ticket used."""
    from svcdesk.app import fees

    given = {k: v for k, v in (("labour", labour), ("travel", travel), ("parts", parts_))
             if v is not None}
    found = fees.quote(state.desk(), ticket, given, on_site, message, not_covered)
    echo(f"{found.number}: {found.events[-1].note}")


def _answer(approved: bool, doc: str):
    """The command recording the customer's answer to a quote."""

    @click.command("approve" if approved else "decline", help=doc)
    @click.argument("ticket", type=TICKET_ID)
    @click.option("-m", "--message", help="How the customer said so (电话确认...).")
    @pass_state
    def command(state, ticket, message):
        from svcdesk.app import fees

        found = fees.answer(state.desk(), ticket, approved, message)
        echo(f"{found.number}: quote ¥{found.get('fee.quote')} "
             f"{'approved' if approved else 'declined'}")

    return command


approve = _answer(True, "Record that the customer approved the ticket's quote (work may "
                        "then start).")
decline = _answer(False, "Record that the customer declined the ticket's quote.")


@click.command()
@click.argument("ticket", type=TICKET_ID)
@click.argument("amount", type=MONEY)
@click.option("-m", "--message", help="How it was paid (微信支付, 发票号...).")
@pass_state
def charge(state, ticket, amount, message):
    """Record the AMOUNT charged for TICKET, in yuan (0 waives the fee)."""
    from svcdesk.app import fees

    found = fees.charge(state.desk(), ticket, amount, message)
    echo(f"{found.number}: charged ¥{found.get('fee.charged')}")


COMMANDS = (parts, quote, approve, decline, charge)
