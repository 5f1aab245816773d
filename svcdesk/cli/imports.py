"""Imports from files: a platform's export (CSV or Excel) as tickets."""

from pathlib import Path

import click

from svcdesk.base.errors import ValidationError
from svcdesk.cli.output import as_json, clip, echo, style, table
from svcdesk.cli.params import TEXT_OR_JSON


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layout", help="The layout in rules.yaml imports: (default: the one whose "
                               "columns the file's header row has).")
@click.option("--dry-run", is_flag=True, help="Say what would be made; change nothing.")
@click.option("--encoding", help="Read a CSV as this encoding (default: found from the bytes: "
                                 "UTF-8 with or without BOM, GBK/GB18030, UTF-16...).")
@click.option("--sheet", help="The workbook's sheet to read (default: the first).")
@click.option("--no-notices", is_flag=True, help="Queue no notices (a backfill of old "
                                                 "requests).")
@TEXT_OR_JSON
@click.pass_obj
def import_(state, file, layout, dry_run, encoding, sheet, no_notices, fmt):
    """Take a platform's export (淘宝/天猫 退款售后, 京东 服务单...: CSV or .xlsx/.xls) as
    tickets, one per row, classified and assigned by the rules, in one commit. A row whose
    platform number was imported before is skipped; a bad row is named by its line and
    refused, the others are taken (exit 6 when any was refused).

    \b
    Examples:
      svcdesk import 退款导出.csv --dry-run
      svcdesk import 京东服务单.xlsx
      svcdesk import export.csv --layout taobao --encoding gbk
    """
    from svcdesk.app import imports

    desk = state.desk()
    report = imports.run(desk, file, layout, dry_run, encoding, sheet, not no_notices)
    refused = [row for row in report.rows if row.outcome == "refused"]
    if fmt == "json":
        echo(as_json({"layout": report.layout.name, "read_as": report.read_as,
                      "dry_run": dry_run, "rows": [_plain(row) for row in report.rows]}))
    else:
        _show(report, file, dry_run)
    if refused:
        for row in refused[:50]:
            echo(f"{file}:{row.line}: {row.said}", err=True)
        lines = ", ".join(str(row.line) for row in refused[:10])
        raise ValidationError(
            f"{len(refused)} row{'s' if len(refused) != 1 else ''} of {file} refused (line "
            f"{lines}{', …' if len(refused) > 10 else ''}); "
            + ("nothing was changed (dry run)" if dry_run else "the other rows were taken"))


def _plain(row) -> dict:
    out = {"line": row.line, "key": row.key, "outcome": row.outcome}
    if row.outcome == "new":
        out["id"] = row.said
    elif row.outcome == "skipped":
        out.update({"same_as": row.same_as} if row.same_as else {"id": row.said})
    elif row.outcome == "refused":
        out["reason"] = row.said
    else:
        out["values"] = row.ticket.final
    return out


def _show(report, file: Path, dry_run: bool) -> None:
    shown = []
    for row in report.rows:
        if row.outcome == "new":
            fields = row.ticket.fields
            shown.append((row.said, row.line, row.key, fields.get("type"),
                          fields.get("priority"), fields.get("assignee") or "—",
                          clip(fields.get("title") or "", 40)))
        elif row.outcome == "would":
            final = row.ticket.final
            shown.append(("(new)", row.line, row.key, final.get("type"),
                          final.get("priority"), final.get("team") or "—",
                          clip(final.get("title") or "", 40)))
        elif row.same_as:
            shown.append(("—", row.line, row.key, "", "", "", f"listed on line {row.same_as}"))
        elif row.outcome == "skipped":
            shown.append((row.said, row.line, row.key, "", "", "", "already imported"))
    if shown:
        who = "team" if dry_run else "assignee"
        echo(table(shown, ("ticket", "line", report.layout.key, "type", "priority", who,
                           "title")))
    counts = [f"{report.count('would' if dry_run else 'new')} "
              + ("would be made" if dry_run else "new"),
              f"{report.count('skipped')} skipped", f"{report.count('refused')} refused"]
    echo(style(f"{file.name} ({report.layout.label}, read as {report.read_as}): ", bold=True)
         + ", ".join(counts) + (" — dry run, nothing changed" if dry_run else ""))


COMMANDS = (import_,)
