"""A platform's export read as requests: which layout a header row is (rules.yaml
``imports:``), and what one row says in the desk's fields.

A layout names the column of the platform's own number (``key``: 退款编号, 服务单号), which
makes a row's import happen once; the column(s) each field comes from; what the export's
words mean in the desk's vocabularies (``values``: 退货退款 -> refund); and what every row
gets (``set``: channel ecommerce, a tag). A field from several columns is their non-empty
values: a text field as ``column：value`` lines, any other joined by " · ".
"""

import re
from typing import NamedTuple

_DAY = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


class Layout(NamedTuple):
    """One export layout of rules.yaml ``imports:``."""

    name: str
    label: str
    key: str
    columns: dict  # field -> [columns]
    values: dict  # field -> {what the export says: the desk's value}
    set: dict  # field -> value every row gets

    def needed(self) -> list:
        """Every column the layout reads, the key first."""
        out = [self.key]
        for columns in self.columns.values():
            out += [c for c in columns if c not in out]
        return out


class RowError(ValueError):
    """A row that cannot become a request: ``column`` (or None) and why."""


def layouts(section: dict) -> dict:
    """{name: Layout} of rules.yaml's ``imports:`` section as checked by the schema."""
    return {name: Layout(name, entry.get("label", name), entry["key"],
                         {f: c if isinstance(c, list) else [c]
                          for f, c in entry["columns"].items()},
                         entry.get("values", {}), entry.get("set", {}))
            for name, entry in section.items()}


def detect(found: dict, headers: list) -> Layout | None:
    """The layout whose columns a header row has: all of them, or else the one with its key
    and the most of them (its missing columns are then reported by ``missing``)."""
    have = set(headers)
    best, most = None, -1
    for layout in found.values():
        needed = layout.needed()
        if layout.key not in have:
            continue
        count = sum(c in have for c in needed)
        if count == len(needed):
            return layout
        if count > most:
            best, most = layout, count
    return best


def missing(layout: Layout, headers: list) -> list:
    have = set(headers)
    return [c for c in layout.needed() if c not in have]


def row_values(layout: Layout, kinds: dict, headers: list, cells: list) -> tuple:
    """(key, {field: raw value}) of one row; ``kinds`` gives each field's type (date fields
    take the day of a date-time; text fields label their columns). RowError when the row
    has no key or a value the layout does not know."""
    at = {}
    for i, header in enumerate(headers):
        at.setdefault(header, i)

    def cell(column):
        i = at.get(column)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    key = cell(layout.key)
    if not key:
        raise RowError(f"no {layout.key} (the layout's key column)")
    values = {}
    for field_name, value in layout.set.items():
        values[field_name] = value
    for field_name, columns in layout.columns.items():
        given = [(c, cell(c)) for c in columns if cell(c)]
        if not given:
            continue
        kind = kinds.get(field_name)
        if kind == "text" and len(given) > 1:
            value = "\n".join(f"{c}：{v}" for c, v in given)
        else:
            value = " · ".join(v for _, v in given)
        table = layout.values.get(field_name)
        if table is not None:
            if value not in table:
                raise RowError(f"{columns[0]}: {value!r} is not in imports.{layout.name}"
                               f".values.{field_name} (known: {', '.join(table)})")
            value = table[value]
        elif kind == "date":
            day = _DAY.match(value)
            if day:
                value = f"{day[1]}-{int(day[2]):02d}-{int(day[3]):02d}"
        values[field_name] = value
    return key, values
