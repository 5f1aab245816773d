"""Customers and units: svcdesk customer add|show|list|edit|merge, svcdesk unit
add|show|list|edit."""

import click

from svcdesk.cli.output import as_csv, as_json, echo, style, table
from svcdesk.base.errors import ExitCode
from svcdesk.cli.params import ASSIGNMENT, BOM

pass_state = click.pass_obj

# option -> customer field; phones and emails may be given several times
_CUSTOMER = {"name": "name", "company": "company", "contact": "contact", "phone": "phones",
             "email": "emails", "wechat": "wechat", "address": "address", "region": "region",
             "tier": "tier", "industry": "industry", "kind": "kind", "notes": "notes"}
_UNIT = {"model": "model", "customer": "customer", "purchased": "purchased",
         "order_no": "order_no", "contract": "contract", "warranty_end": "warranty_end",
         "extended_until": "extended_until", "notes": "notes"}
_HELP = {"name": "Name (姓名或单位名称).", "company": "Company (单位).",
         "contact": "Contact person (联系人).", "wechat": "WeChat ID (微信号).",
         "address": "Address for on-site work (地址).",
         "region": "Region (地区): who covers it is assigned its tickets.",
         "industry": "Industry (所属行业).", "notes": "Anything else (备注).",
         "model": "Product model (as in rules.yaml products).",
         "order_no": "Order number (订单号).", "contract": "Contract number (合同编号).",
         "phone": "A phone number (again for more).", "email": "An email (again for more).",
         "tier": "Tier from rules.yaml tiers (standard, vip, key).",
         "kind": "person or organisation.", "customer": "The owner's customer number.",
         "purchased": "Purchase date, YYYY-MM-DD.",
         "warranty_end": "First day out of warranty (default: purchase + the model's "
                         "warranty).", "extended_until": "Last day of an extended warranty."}
_MULTIPLE = ("phone", "email")


def _options(fields: dict):
    def wrap(func):
        for name in reversed(list(fields)):
            func = click.option(f"--{name.replace('_', '-')}", name,
                                multiple=name in _MULTIPLE, metavar="TEXT",
                                help=_HELP.get(name, f"{name.replace('_', ' ').capitalize()}."),
                                )(func)
        return func
    return wrap


def _given(fields: dict, options: dict, sets=(), unsets=()) -> dict:
    given = {}
    for option, field in fields.items():
        value = options.get(option)
        if value not in (None, (), ""):
            given[field] = list(value) if isinstance(value, tuple) else value
    for name, value in sets:
        given[name] = value
    for name in unsets:
        given[name] = None
    return given


_SHOW_FORMAT = click.option("--format", "fmt", type=click.Choice(("text", "json", "yaml")),
                            default="text", show_default=True,
                            help="text for people; json or yaml (the file) for scripts.")
_FORMAT = click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")),
                       default="table", show_default=True,
                       help="table for people; json or csv for scripts.")


# ---- customers -------------------------------------------------------------------------------

@click.group()
def customer():
    """Customers (客户): their contacts, region and tier, their tickets and units. A ticket
    whose phone or email is a customer's is linked to the record and inherits its tier and
    region."""


@customer.command("add")
@_options(_CUSTOMER)
@click.option("--set", "sets", type=ASSIGNMENT, multiple=True, help="Any field: --set notes=…")
@pass_state
def customer_add(state, sets, **options):
    """Add a customer; prints its number (C and 8 letters or digits).

    \b
    Examples:
      svcdesk customer add --name 张伟 --company 苏州华兴精密 --phone 13912345678 \\
          --region 苏州 --tier key
    """
    from svcdesk.app import records

    echo(_customer_line(records.add(state.desk(), "customer",
                                    _given(_CUSTOMER, options, sets)).fields))


def _edit(group, kind: str, fields: dict, key: str, doc: str, line):
    """The `edit` command of a kind of record: its options, --set, --unset, -m."""

    @group.command("edit", help=doc)
    @click.argument(key)
    @_options(fields)
    @click.option("--set", "sets", type=ASSIGNMENT, multiple=True,
                  help="Any field: --set notes=…")
    @click.option("--unset", "unsets", multiple=True, metavar="FIELD", help="Clear a field.")
    @click.option("-m", "--message", help="Why (kept on the record's event).")
    @pass_state
    def command(state, sets, unsets, message, **options):
        from svcdesk.app import records

        named = options.pop(key)
        given = _given(fields, options, sets, unsets)
        if not given:
            raise click.UsageError("nothing to change: give options, --set or --unset")
        echo(line(records.edit(state.desk(), kind, named, given, message).fields))

    return command


def _customer_line(f: dict) -> str:
    return f"{f['id']}  {f.get('name') or ''}".rstrip()


customer_edit = _edit(customer, "customer", _CUSTOMER, "number",
                      "Change a customer's fields (phones and emails given replace the list).",
                      _customer_line)


@customer.command("show")
@click.argument("number")
@_SHOW_FORMAT
@pass_state
def customer_show(state, number, fmt):
    """A customer with their tickets (open first), units, ratings and service levels."""
    from svcdesk.app import records

    desk = state.desk()
    view = records.show_customer(desk, number)
    if not _printed_for_scripts(view.record, fmt, {
            "tickets": view.tickets, "units": view.units, "csat": view.csat,
            "rated": view.rated, "sla": {"met": view.met, "breached": view.breached}}):
        echo(_customer_text(desk.rules, view))


def _printed_for_scripts(record, fmt: str, more: dict) -> bool:
    """Print ``record`` as its file (yaml) or as JSON with ``more``; False for text."""
    from svcdesk.app import records

    if fmt == "yaml":
        echo(records.file_text(record), nl=False)
    elif fmt == "json":
        echo(as_json({**records.plain(record), **more}))
    return fmt in ("yaml", "json")


def _customer_text(rules, view) -> str:
    f = view.record.fields
    head = f"{f['id']}  {f.get('name') or f.get('company') or ''}"
    lines = [style(head, bold=True)]
    if f.get("merged_into"):
        lines.append(style(f"已合并到 {f['merged_into']} (merged into)", fg="yellow"))
    schema = rules.records["customer"]
    for name in ("kind", "company", "contact", "phones", "emails", "wechat", "address",
                 "region", "tier", "industry"):
        value = f.get(name)
        if value:
            spec = schema.specs[name]
            text = ", ".join(value) if isinstance(value, list) else \
                str(spec.choices.get(value, value))
            lines.append(f"{spec.label}  {text}")
    if f.get("notes"):
        lines += ["备注", *("  " + line for line in f["notes"].splitlines())]
    opened = [t for t in view.tickets if rules.statuses.get(t.get("status")) and
              rules.statuses[t["status"]].open]
    csat = f"{view.csat:.1f}/5 ({view.rated} 个评价)" if view.csat is not None else "—"
    lines.append(f"工单 {len(view.tickets)} 个（未结 {len(opened)}）· 满意度 {csat} · "
                 f"解决时限 达成 {view.met} / 超时 {view.breached}")
    if view.tickets:
        lines.append("")
        lines.append(table([[t["id"], rules.label("statuses", t.get("status")),
                             t.get("priority") or "", (t.get("created") or "")[:10],
                             (t.get("product") or {}).get("model") or "",
                             _clip(t.get("title") or "")] for t in view.tickets],
                           ["工单", "状态", "优先级", "创建", "产品", "标题"]))
    if view.units:
        lines.append("")
        lines.append(table([[u["id"], u.get("model") or "", u.get("purchased") or "",
                             u.get("warranty_end") or ""] for u in view.units],
                           ["序列号", "型号", "购买日期", "保修截止"]))
    return "\n".join(lines)


def _clip(text: str) -> str:
    from svcdesk.cli.output import clip

    return clip(text, 40)


@customer.command("list")
@click.argument("text", required=False)
@_FORMAT
@BOM
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@pass_state
def customer_list(state, text, fmt, bom, limit):
    """Customers (those whose fields hold TEXT: a name, a phone, a region...)."""
    from svcdesk.app import records

    desk = state.desk()
    found = records.listing(desk, "customer", text, limit=limit)
    _print_records(found, fmt, bom, ["id", "name", "company", "phones", "region", "tier"],
                   ["客户编号", "名称", "单位", "电话", "地区", "等级"])
    _report_problems(records.problems(desk, "customer"))


@customer.command("merge")
@click.argument("number")
@click.option("--into", required=True, metavar="NUMBER", help="The record to keep.")
@pass_state
def customer_merge(state, number, into):
    """Merge two records of one customer: NUMBER's contacts go to the one kept, and its
    tickets and units follow."""
    from svcdesk.app import records

    kept, tickets, units = records.merge_customers(state.desk(), number, into)
    echo(f"{number.upper()} → {kept.fields['id']}: {tickets} ticket(s) and {units} unit(s) "
         "moved")


def _print_records(found: list, fmt: str, bom: bool, columns: list, headers: list) -> None:
    if fmt == "json":
        echo(as_json(found))
        return
    if fmt == "csv":
        flat = [{c: ", ".join(r[c]) if isinstance(r.get(c), list) else r.get(c)
                 for c in columns} for r in found]
        echo(as_csv(flat, columns, bom=bom), nl=False)
        return
    if not found:
        echo("Nothing found.")
        return
    echo(table([[", ".join(r[c]) if isinstance(r.get(c), list) else (r.get(c) or "")
                 for c in columns] for r in found], headers))


def _report_problems(problems: list) -> None:
    """Name each record file that could not be read (they are not listed): exit 7."""
    for problem in problems:
        echo(f"Warning: {problem}", err=True)
    if problems:
        echo(f"Error: {len(problems)} record file(s) could not be read and are not listed",
             err=True)
        raise SystemExit(ExitCode.TICKET_FILE)


# ---- units -----------------------------------------------------------------------------------

@click.group()
def unit():
    """Units sold (设备), by serial: model, owner, purchase, warranty. A ticket naming a
    serial is linked to its unit and gets its warranty state on the ticket's date."""


@unit.command("add")
@click.argument("serial")
@_options(_UNIT)
@pass_state
def unit_add(state, serial, **options):
    """Add a unit by its SERIAL.

    \b
    Examples:
      svcdesk unit add SN20260001 --model "X1-Pro 笔记本" --customer C7K3F9QX2 \\
          --purchased 2026-03-15 --contract HT-2026-018
    """
    from svcdesk.app import records

    record = records.add(state.desk(), "unit", _given(_UNIT, options), key=serial)
    echo(_unit_line(record.fields))


def _unit_line(f: dict) -> str:
    return "  ".join(str(x) for x in (f["id"], f.get("model"), f.get("customer")) if x)


unit_edit = _edit(unit, "unit", _UNIT, "serial",
                  "Change a unit's fields (its owner, an extended warranty...).", _unit_line)


@unit.command("show")
@click.argument("serial")
@_SHOW_FORMAT
@pass_state
def unit_show(state, serial, fmt):
    """A unit, its warranty today, its owner and its repair history."""
    from svcdesk.app import records

    desk = state.desk()
    view = records.show_unit(desk, serial)
    if _printed_for_scripts(view.record, fmt, {"warranty": view.warranty,
                                               "owner": view.owner, "tickets": view.tickets}):
        return
    rules = desk.rules
    f = view.record.fields
    schema = rules.records["unit"]
    lines = [style(f"{f['id']}  {f.get('model') or ''}", bold=True),
             f"保修状态  {rules.label('warranty', view.warranty)} ({view.warranty})"]
    for name in ("customer", "purchased", "warranty_end", "extended_until", "order_no",
                 "contract"):
        if f.get(name) is not None:
            text = f[name]
            if name == "customer" and view.owner:
                text = f"{text} {view.owner.get('name') or view.owner.get('company') or ''}"
            lines.append(f"{schema.specs[name].label}  {text}")
    if f.get("notes"):
        lines += ["备注", *("  " + line for line in f["notes"].splitlines())]
    lines.append(f"维修记录 {len(view.tickets)} 次")
    if view.tickets:
        lines.append(table([[t["id"], rules.label("statuses", t.get("status")),
                             (t.get("created") or "")[:10], _clip(t.get("title") or ""),
                             _clip(t.get("resolution") or "")] for t in view.tickets],
                           ["工单", "状态", "创建", "标题", "处理结果"]))
    echo("\n".join(lines))


@unit.command("list")
@click.argument("text", required=False)
@click.option("--customer", metavar="NUMBER", help="Only this customer's units.")
@_FORMAT
@BOM
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@pass_state
def unit_list(state, text, customer, fmt, bom, limit):
    """Units (those whose fields hold TEXT; a customer's with --customer)."""
    from svcdesk.app import records

    desk = state.desk()
    found = records.listing(desk, "unit", text, owner=customer, limit=limit)
    _print_records(found, fmt, bom, ["id", "model", "customer", "purchased", "warranty_end"],
                   ["序列号", "型号", "客户", "购买日期", "保修截止"])
    _report_problems(records.problems(desk, "unit"))


COMMANDS = (customer, unit)
