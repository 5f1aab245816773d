"""Rows from a platform's export: CSV in whatever encoding it came in, or a workbook (.xlsx,
.xls, .ods, read by python-calamine: a Rust reader, several times as fast as openpyxl on a
large export (docs/performance.md), and it reads the old .xls some back offices still give).

Cells come back as text, as the platform meant them: Excel's numbers that are whole (order
numbers, phones) without `.0`, dates as `YYYY-MM-DD HH:MM:SS`, and the `="2938..."` or `'2938`
wrappers with which exports keep Excel from rounding long numbers taken off.
"""

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import NamedTuple

from svcdesk.adapters.encodings import decode_named
from svcdesk.base.errors import UsageError

MAX_BYTES = 200 * 1024 * 1024  # a file larger than this is refused, not read
# what a zipped workbook (.xlsx, .ods) may inflate to: a 100,000-row export is about a third
MAX_INFLATED = 128 * 1024 * 1024
ZIPPED = (".xlsx", ".xlsm", ".xlsb", ".ods")
MOST_ROWS = 100_000  # rows one import takes; a larger export is split
WORKBOOKS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_WRAPPED = re.compile(r'^="(.*)"$', re.S)
csv.field_size_limit(1_000_000)  # a cell of a million characters; more is not a cell


class Sheet(NamedTuple):
    """A table read from a file: its header row, its rows as (line, cells), and how it was
    read (the encoding, or the sheet's name)."""

    headers: list
    rows: list
    read_as: str


def read(path: Path, encoding: str | None = None, sheet: str | None = None) -> Sheet:
    """The table in ``path`` (UsageError naming the file for what cannot be read)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    if size > MAX_BYTES:
        raise UsageError(f"{path}: {size // (1 << 20)} MB, more than an import reads "
                         f"({MAX_BYTES >> 20} MB); split it")
    if path.suffix.lower() in WORKBOOKS:
        return _workbook(path, sheet)
    data = path.read_bytes()
    if encoding:
        try:
            text, read_as = data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: not {encoding}: {exc}") from None
    else:
        text, read_as = decode_named(data)
    return _table(path, _csv_rows(text), read_as)


def _csv_rows(text: str):
    """(line, cells) of CSV text, its delimiter sniffed (comma, tab, semicolon)."""
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1


def _workbook(path: Path, sheet: str | None) -> Sheet:
    from python_calamine import CalamineWorkbook

    if path.suffix.lower() in ZIPPED:
        _bounded(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
        if sheet is not None and sheet not in names:
            raise UsageError(f"{path} has no sheet {sheet!r}; it has: {', '.join(names)}")
        name = sheet if sheet is not None else names[0]
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except UsageError:
        raise
    except Exception as exc:  # calamine's errors: a damaged or encrypted workbook
        raise UsageError(f"{path}: not a workbook it can read: {exc}") from None
    return _table(path, ((i + 1, row) for i, row in enumerate(rows)), f"sheet {name}")


def _bounded(path: Path) -> None:
    """Refuse a zipped workbook that would inflate past MAX_INFLATED (a zip bomb), by the
    sizes its entries declare and, since a declaration can lie, by inflating each entry as
    a stream, a megabyte at a time, up to what it declares: zipfile then checks its CRC,
    which fails when the data is not what was declared. The reader then meets only
    entries whose sizes are true."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as book:
            entries = book.infolist()
            declared = sum(e.file_size for e in entries)
            if declared > MAX_INFLATED:
                raise UsageError(f"{path}: inflates to {declared >> 20} MB, more than an "
                                 f"import reads ({MAX_INFLATED >> 20} MB); split it")
            for entry in entries:
                with book.open(entry) as stream:
                    while stream.read(1 << 20):
                        pass
    except UsageError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError) as exc:
        raise UsageError(f"{path}: not a workbook it can read: {exc}") from None


def _table(path: Path, rows, read_as: str) -> Sheet:
    headers, out = None, []
    for line, cells in rows:
        cells = [_text(c) for c in cells]
        if headers is None:
            if any(cells):
                headers = cells
            continue
        if not any(cells):
            continue
        if len(out) == MOST_ROWS:
            raise UsageError(f"{path}: more than {MOST_ROWS:,} rows; split it")
        out.append((line, cells))
    if headers is None:
        raise UsageError(f"{path}: no header row (the file is empty)")
    return Sheet(headers, out, read_as)


def _text(value) -> str:
    """A cell as the text the platform meant."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    text = str(value).strip().strip("\t")
    wrapped = _WRAPPED.match(text)
    if wrapped:
        text = wrapped.group(1)
    elif text.startswith("'") and text[1:].isdigit():
        text = text[1:]
    return text.strip()
