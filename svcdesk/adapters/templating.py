"""Templates: the desk's own (``templates/``) over the ones svcdesk ships, rendered in
Jinja's sandbox with strict undefined variables, every error naming its file and line.

A template ``NAME`` of kind ``EXT`` is ``FOLDER/NAME.EXT.j2`` (Chinese) or
``FOLDER/NAME.en.EXT.j2`` (English, falling back to Chinese); notices have no kind
(``notices/ack.j2``). HTML templates (``.html.j2``) are autoescaped.
"""

import sys
import time
from datetime import datetime
from pathlib import Path

from svcdesk.base.errors import TemplateError

# What one rendering may take: templates are the desk's input, and a nested loop, an
# exponential macro or 'a' * 10**9 must end in an error naming the template, not in a
# command that runs for minutes or runs out of memory.
MAX_SECONDS = 5.0  # a weekly report of a big desk renders in well under a second
MAX_OUTPUT = 5_000_000  # characters
MAX_VALUE = 1_000_000  # characters (or items) one expression may make by * or **


class _OverBudget(Exception):
    """A rendering went past MAX_SECONDS, MAX_OUTPUT or MAX_VALUE."""


def _environment_class():
    """The sandbox with a limit on what ``*`` and ``**`` may make (Jinja's documented hook
    for intercepting operators)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Budgeted(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset(("*", "**"))

        def call_binop(self, context, operator, left, right):
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and \
                            len(seq) * times > MAX_VALUE:
                        raise _OverBudget(f"an expression would make {len(seq) * times:,} "
                                          f"characters or items (at most {MAX_VALUE:,})")
            if operator == "**" and isinstance(left, int) and isinstance(right, int) and (
                    abs(right) > 64 and abs(left) > 1):
                raise _OverBudget(f"{left} ** {right} is too large a number")
            return super().call_binop(context, operator, left, right)

    return Budgeted


class _Deadline:
    """Stops a rendering past its time: a trace function (of call events only, so no line
    of the template pays) checks the clock now and then as the rendering calls anything:
    a filter, an attribute, a macro, each range() of a loop. A loop between two calls
    runs at most range()'s 100,000 times. A tracer already set (a debugger, coverage) is
    put back after."""

    def __init__(self, seconds: float):
        self.until = time.monotonic() + seconds
        self.previous = None
        self.count = 0

    def __enter__(self):
        self.previous = sys.gettrace()
        sys.settrace(self._call)
        return self

    def __exit__(self, *exc):
        sys.settrace(self.previous)
        return False

    def _call(self, frame, event, arg):
        self.count += 1
        if self.count % 64 == 0 and time.monotonic() > self.until:
            raise _OverBudget(f"rendering took over {MAX_SECONDS:g} s")
        return self.previous(frame, event, arg) if self.previous else None


class Renderer:
    """Renders templates in a sandbox with strict undefined variables."""

    def __init__(self, desk_templates: Path, shipped: Path, language: str, tz, duration_text,
                 cache: Path | None = None):
        """``cache``: a folder for Jinja's compiled templates (keyed by each template's
        source, so never stale), which spares every command compiling them again."""
        from jinja2 import (ChoiceLoader, FileSystemBytecodeCache, FileSystemLoader,
                            PrefixLoader, StrictUndefined, select_autoescape)

        self.language, self.tz = language, tz
        compiled = None
        if cache is not None:
            try:
                cache.mkdir(parents=True, exist_ok=True)
                compiled = FileSystemBytecodeCache(str(cache))
            except OSError:  # a desk we cannot write to: compile each time
                pass
        self.env = _environment_class()(
            bytecode_cache=compiled,
            loader=ChoiceLoader([FileSystemLoader(str(desk_templates)),
                                 PrefixLoader({"svcdesk": FileSystemLoader(str(shipped))}),
                                 FileSystemLoader(str(shipped))]),  # what the desk lacks
            undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=False,
            autoescape=select_autoescape(enabled_extensions=("html.j2",),
                                         default_for_string=False))
        self.env.filters["when"] = self._when
        self.env.filters["duration"] = lambda m: "—" if m is None else duration_text(m, language)
        self.env.filters["pct"] = lambda v: "—" if v is None else f"{v:g}%"
        self.env.filters["num"] = lambda v: "—" if v is None else f"{v:g}"
        self.env.filters["signed"] = lambda v: "—" if v is None else f"{v:+g}"

    def _when(self, value, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value is None:
            return ""
        return value.astimezone(self.tz).strftime(fmt)

    def has(self, folder: str, template: str, kind: str) -> bool:
        """Whether template ``template`` of ``kind`` exists (the desk's or shipped)."""
        import jinja2

        for name in (f"{folder}/{template}.en.{kind}.j2", f"{folder}/{template}.{kind}.j2"):
            if name.endswith(f".en.{kind}.j2") and self.language != "en":
                continue
            try:
                self.env.get_template(name)
                return True
            except jinja2.TemplateNotFound:
                continue
        return False

    def string(self, source: str, context: dict, where: str) -> str:
        """A template given as text (a request in rules.yaml) rendered; TemplateError names
        ``where``."""
        import jinja2

        try:
            return _rendered(self.env.from_string(source), context)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{where}: line {exc.lineno}: {exc.message}") from None
        except (jinja2.TemplateError, _OverBudget, RecursionError, TypeError, ValueError,
                ArithmeticError, LookupError) as exc:
            raise TemplateError(f"{where}: {exc}") from None

    def text(self, folder: str, template: str, kind: str, context: dict) -> str:
        """The rendered text; raise TemplateError naming the file and line."""
        import jinja2
        from jinja2.sandbox import SecurityError

        suffix = f".{kind}.j2" if kind else ".j2"
        names = [f"{folder}/{template}{suffix}"]
        if self.language == "en":
            names.insert(0, f"{folder}/{template}.en{suffix}")
        name = names[0]
        try:
            found = None
            for name in names:
                try:
                    found = self.env.get_template(name)
                    break
                except jinja2.TemplateNotFound:
                    continue
            if found is None:
                raise TemplateError(f"templates/{names[-1]}: no such template")
            return _rendered(found, context)
        except jinja2.TemplateSyntaxError as exc:
            # Jinja names the template, except for some lexer errors, which carry its path
            where = exc.name if exc.name and not Path(exc.name).is_absolute() else name
            raise TemplateError(f"templates/{where}:{exc.lineno}: {exc.message}") from None
        except SecurityError as exc:
            raise TemplateError(f"templates/{name}:{_template_line(exc)}: not allowed in a "
                                f"template ({exc})") from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"templates/{name}:{_template_line(exc)}: {exc.message}") \
                from None
        except _OverBudget as exc:
            raise TemplateError(f"templates/{name}:{_template_line(exc)}: {exc}") from None
        except RecursionError:
            raise TemplateError(f"templates/{name}: recursion too deep (a macro that calls "
                                "itself without end?)") from None
        except MemoryError:
            raise TemplateError(f"templates/{name}: ran out of memory") from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise TemplateError(f"templates/{name}:{_template_line(exc)}: {exc}") from None


def _rendered(template, context: dict) -> str:
    """The template rendered, within MAX_SECONDS and MAX_OUTPUT."""
    parts, size = [], 0
    with _Deadline(MAX_SECONDS):
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise _OverBudget(f"its output passed {MAX_OUTPUT:,} characters")
            parts.append(chunk)
    return "".join(parts)


def _template_line(exc: BaseException) -> str:
    """The template line a rendering error came from (Jinja maps its frames to it)."""
    import traceback

    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
             if f.filename.endswith(".j2")]
    return str(lines[-1]) if lines else "?"
