"""A platform's export (CSV or Excel) taken as requests: each good row a ticket, classified
and assigned by the rules as `new` would, all in one commit; a row whose platform number was
imported before is skipped; a bad row is named by its line with the reason, and the good rows
are taken all the same.
"""

from pathlib import Path
from typing import NamedTuple

from svcdesk.adapters import sheets, store
from svcdesk.adapters.index import IMPORT_RULE
from svcdesk.app import intake
from svcdesk.base.errors import SvcdeskError, UsageError
from svcdesk.domain import imports


class Row(NamedTuple):
    """What became of one row: made (its number), skipped (already imported: the number it
    made; or listed twice: ``same_as`` the line taken), refused (why), or would be made
    (dry run)."""

    line: int
    key: str | None
    outcome: str  # new, would, skipped, refused
    said: str  # the number made, the ticket it was imported into, or why not
    ticket: object = None  # model.Ticket made (new), or the Request (would)
    same_as: int | None = None  # skipped: the line of the file that holds the same key


class Report(NamedTuple):
    """An import's outcome."""

    layout: imports.Layout
    read_as: str  # the encoding, or the sheet
    rows: list

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)


def run(desk, path: Path, layout: str | None = None, dry_run: bool = False,
        encoding: str | None = None, sheet: str | None = None,
        notices: bool = True) -> Report:
    """Import ``path`` by its layout (rules.yaml ``imports:``; found from its header row
    unless named)."""
    rules = desk.rules
    if not rules.imports:
        raise UsageError("rules.yaml has no imports: section naming the export layouts")
    table = sheets.read(path, encoding, sheet)
    chosen = _layout(rules.imports, layout, table.headers, path)
    kinds = {name: spec.type for name, spec in rules.schema.specs.items()}
    read = []  # (line, key, values), or (line, None, why) for a row that says no request
    for line, cells in table.rows:
        try:
            read.append((line, *imports.row_values(chosen, kinds, table.headers, cells)))
        except imports.RowError as exc:
            read.append((line, None, str(exc)))
    taken = desk.index.taken_among(_rule(chosen, key) for _, key, _ in read if key)
    rows, requests, first_line = [], [], {}
    for line, key, values in read:
        rule = key and _rule(chosen, key)
        if key is None:
            rows.append(Row(line, None, "refused", values))
        elif rule in taken:
            rows.append(Row(line, key, "skipped", store.number_of(taken[rule])))
        elif key in first_line:  # the same request listed twice: taken from its first line
            rows.append(Row(line, key, "skipped", "", same_as=first_line[key]))
        else:
            try:
                request = intake.prepare(desk, values, incomplete_ok=True, rule=rule)
            except SvcdeskError as exc:
                rows.append(Row(line, key, "refused", str(exc)))
                continue
            first_line[key] = line
            rows.append(Row(line, key, "would", "", request))
            requests.append(request)
    if not dry_run and requests:
        made = iter(intake.create_tickets(
            desk, requests, f"import {len(requests)} ticket{'s' if len(requests) != 1 else ''}"
            f" from {path.name} ({chosen.label})",
            f"Layout: imports.{chosen.name}, read as {table.read_as}", notices=notices))
        rows = [row._replace(outcome="new", said=(t := next(made).ticket).number, ticket=t)
                if row.outcome == "would" else row for row in rows]
    return Report(chosen, table.read_as, rows)


def _layout(found: dict, name: str | None, headers: list, path: Path) -> imports.Layout:
    if name is not None:
        if name not in found:
            raise UsageError(f"no layout {name!r} in rules.yaml imports:; there are: "
                             + ", ".join(found))
        chosen = found[name]
    else:
        chosen = imports.detect(found, headers)
        if chosen is None:
            raise UsageError(f"{path}: its header row matches none of the layouts in "
                             f"rules.yaml imports: ({', '.join(found)}); it has: "
                             + ", ".join(h for h in headers[:12] if h))
    lacking = imports.missing(chosen, headers)
    if lacking:
        raise UsageError(f"{path}: the {chosen.name} layout needs the column(s) "
                         f"{', '.join(lacking)}, which the file lacks")
    return chosen


def _rule(layout: imports.Layout, key: str) -> str:
    """The rule on the create event of the ticket a row made: how it is taken once."""
    return f"{IMPORT_RULE}{layout.name}: {key}"
