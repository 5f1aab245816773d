"""Printing: colour only on a terminal and never with NO_COLOR; tables aligned for Chinese."""

import io
import json
import os

import click

FORMATS = ("table", "json", "csv", "yaml")


def color_enabled() -> bool | None:
    """False when NO_COLOR is set; otherwise click decides (colour only on a terminal)."""
    return False if os.environ.get("NO_COLOR") else None


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    """Print ``text``, stripping colour where it does not belong."""
    click.echo(text, err=err, nl=nl, color=color_enabled())


def style(text: str, **kwargs) -> str:
    """Colour ``text`` (removed again by echo where colour does not belong)."""
    return click.style(text, **kwargs)


def width(text: str) -> int:
    """Display width in terminal columns (Chinese characters take two)."""
    from wcwidth import wcswidth

    w = wcswidth(text)
    return w if w >= 0 else len(text)


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` columns, marking the cut with …."""
    if 2 * len(text) <= limit or width(text) <= limit:  # no character is wider than two
        return text
    from wcwidth import wcwidth

    out, used = [], 0
    for ch in text:
        w = max(wcwidth(ch), 0)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def table(rows: list, headers: list) -> str:
    """A plain table whose columns line up with Chinese and emoji text (no headers: no
    rules either)."""
    import tabulate

    tabulate.PRESERVE_WHITESPACE = False
    tabulate.WIDE_CHARS_MODE = True
    return tabulate.tabulate(rows, headers=headers, tablefmt="simple" if headers else "plain",
                             disable_numparse=True)


def as_json(data) -> str:
    """JSON for scripts: UTF-8 text as is, dates in ISO 8601."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def as_csv(records: list, columns: list, bom: bool = True) -> str:
    """CSV with a header row; cells that a spreadsheet would run as formulas are defused.
    With ``bom``, a byte-order mark first: Excel on Windows reads UTF-8 only with one (and
    shows Chinese as mojibake without), and WPS and LibreOffice take it either way."""
    import csv

    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(c)) for c in columns])
    return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a number, even a negative one, is no formula
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    # a bare CR inside a cell is a line break to Excel, but csv quotes only the "\n" it ends
    # lines with (Hypothesis found the row split in two): as "\n", the cell is quoted whole
    return text.replace("\r\n", "\n").replace("\r", "\n")


class Progress:
    """A progress bar on stderr for long work (shown only on a terminal)."""

    def __init__(self, total: int, label: str):
        import sys

        self._bar = click.progressbar(length=total, label=label, file=sys.stderr,
                                      show_eta=True, show_percent=True)
        self._bar.__enter__()

    def update(self, count: int) -> None:
        """Count ``count`` more items done."""
        self._bar.update(count)

    def finish(self) -> None:
        """Draw the bar full and end its line."""
        self._bar.__exit__(None, None, None)


def progress_factory(label: str):
    """A maker of progress bars when stderr is a terminal, else None."""
    import sys

    if not sys.stderr.isatty():
        return None
    return lambda total, what=label: Progress(total, what)
