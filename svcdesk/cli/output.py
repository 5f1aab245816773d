"""Printing: colour only on a terminal and never with NO_COLOR; tables aligned for Chinese."""

import io
import json
import os
import re

import click

FORMATS = ("table", "json", "csv", "yaml")


def color_enabled() -> bool | None:
    """False when NO_COLOR is set; otherwise click decides (colour only on a terminal)."""
    return False if os.environ.get("NO_COLOR") else None


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    """Print ``text``, stripping colour where it does not belong."""
    click.echo(text, err=err, nl=nl, color=color_enabled())


def page(text: str, allowed: bool = True) -> None:
    """Print ``text`` as git prints a long output: on a terminal, through the pager
    (SVCDESK_PAGER, else PAGER, else less, with LESS=FRX unless LESS is set: it quits at
    once when the text fits the screen, keeps the colours, leaves the screen as it was).
    ``allowed`` False (--no-pager), a pager of "cat" or none, or output that goes to no
    terminal prints it as it is."""
    import sys

    pager = os.environ.get("SVCDESK_PAGER", os.environ.get("PAGER", "less")).strip()
    if not allowed or pager in ("", "cat") or not (sys.stdout.isatty() and
                                                    sys.stdin.isatty()):
        echo(text, nl=False)
        return
    os.environ["PAGER"] = pager  # click's pager reads it
    os.environ.setdefault("LESS", "FRX")
    os.environ.setdefault("LV", "-c")
    click.echo_via_pager(text, color=color_enabled())


def style(text: str, **kwargs) -> str:
    """Colour ``text`` (removed again by echo where colour does not belong)."""
    return click.style(text, **kwargs)


def width(text: str) -> int:
    """Display width in terminal columns (Chinese characters take two)."""
    if text.isascii() and text.isprintable():  # most cells: numbers, dates, names
        return len(text)
    global _wcswidth
    if _wcswidth is None:
        from wcwidth import wcswidth as _wcswidth
    w = _wcswidth(text)
    return w if w >= 0 else len(text)


_wcswidth = None  # wcwidth's, imported when the first text wider than ASCII comes


_ANSI = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;;.*?\x1b\\")  # a colour code, a link


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
    rules either): tabulate's "simple" layout (its "plain" without headers), every column
    left-aligned, cells stripped, a header's column two wider than the header, each line's
    trailing spaces cut. Laid out here because every cell is text whose width is known:
    tabulate guessed each cell's type and measured it again, which was most of the time of
    a 2,000-row listing (docs/performance.md); tests/cli/test_output.py holds the two equal."""
    measured: dict = {}  # text -> its width: statuses, types, agents repeat down a column

    def measure(text: str) -> int:
        w = measured.get(text)
        if w is None:
            w = measured[text] = _display(text)
        return w

    grid = [[_cell_lines(c) for c in row] for row in rows]
    heads = [_cell_lines(h) for h in headers]
    widths = [0] * max([len(headers)] + [len(row) for row in grid])
    for row in grid:
        for i, lines in enumerate(row):
            for line in lines:
                w = measure(line)
                if w > widths[i]:
                    widths[i] = w
    for i, lines in enumerate(heads):
        widths[i] = max(widths[i], max(measure(line) for line in lines) + 2)
    out = []
    for row in ([heads] if headers else []) + grid:
        height = max(len(lines) for lines in row) if row else 1
        for k in range(height):
            parts = []
            for i, w in enumerate(widths):
                lines = row[i] if i < len(row) else ("",)
                text = lines[k] if k < len(lines) else ""
                parts.append(text + " " * (w - measure(text)))
            out.append("  ".join(parts).rstrip())
        if headers and row is heads:
            out.append("  ".join("-" * w for w in widths).rstrip())
    return "\n".join(out)


def _cell_lines(value) -> tuple:
    if value is None:
        return ("",)
    text = format(value, "g") if isinstance(value, float) else str(value)
    if "\n" in text:
        return tuple(line.strip() for line in text.strip().split("\n"))
    return (text.strip(),)


def _display(text: str) -> int:
    """The width of ``text`` on a terminal, its colour codes taking none."""
    return width(_ANSI.sub("", text) if "\x1b" in text else text)


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
