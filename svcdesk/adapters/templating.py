"""Templates: the desk's own (``templates/``) over the ones svcdesk ships, rendered in
Jinja's sandbox with strict undefined variables, every error naming its file and line.

A template ``NAME`` of kind ``EXT`` is ``FOLDER/NAME.EXT.j2`` (Chinese) or
``FOLDER/NAME.en.EXT.j2`` (English, falling back to Chinese); notices have no kind
(``notices/ack.j2``). HTML templates (``.html.j2``) are autoescaped.
"""

from datetime import datetime
from pathlib import Path

from svcdesk.base.errors import TemplateError


class Renderer:
    """Renders templates in a sandbox with strict undefined variables."""

    def __init__(self, desk_templates: Path, shipped: Path, language: str, tz, duration_text,
                 cache: Path | None = None):
        """``cache``: a folder for Jinja's compiled templates (keyed by each template's
        source, so never stale), which spares every command compiling them again."""
        from jinja2 import (ChoiceLoader, FileSystemBytecodeCache, FileSystemLoader,
                            PrefixLoader, StrictUndefined, select_autoescape)
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self.language, self.tz = language, tz
        compiled = None
        if cache is not None:
            try:
                cache.mkdir(parents=True, exist_ok=True)
                compiled = FileSystemBytecodeCache(str(cache))
            except OSError:  # a desk we cannot write to: compile each time
                pass
        self.env = ImmutableSandboxedEnvironment(
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
            return found.render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"templates/{exc.name or name}:{exc.lineno}: {exc.message}") \
                from None
        except SecurityError as exc:
            raise TemplateError(f"templates/{name}:{_template_line(exc)}: not allowed in a "
                                f"template ({exc})") from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"templates/{name}:{_template_line(exc)}: {exc.message}") \
                from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise TemplateError(f"templates/{name}:{_template_line(exc)}: {exc}") from None


def _template_line(exc: BaseException) -> str:
    """The template line a rendering error came from (Jinja maps its frames to it)."""
    import traceback

    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
             if f.filename.endswith(".j2")]
    return str(lines[-1]) if lines else "?"
