"""Files of a desk: ticket YAML in and out, rules.yaml, atomic writes, where tickets live."""

import io
import json
import os
import re
from pathlib import Path

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (AliasEvent, MappingEndEvent, MappingStartEvent, ScalarEvent,
                         SequenceEndEvent, SequenceStartEvent, StreamEndEvent)
from yaml.representer import SafeRepresenter
from yaml.resolver import BaseResolver

from svcdesk.base import model
from svcdesk.domain import rules as rules_mod
from svcdesk.adapters import canonical
from svcdesk.adapters.discovery import RULES, TICKETS
from svcdesk.base.errors import RulesError, TicketFileError, ValidationError
from svcdesk.base.identity import NUMBER_RE, TicketRef

DEFAULTS = Path(__file__).parents[1] / "defaults"  # the rules and templates svcdesk ships
TMP_SUFFIX = ".svcdesk-tmp"
_TICKET_NAME = re.compile(r"^[A-Z][A-Z0-9]{0,9}-\d{8}-\d{4,6}\.yaml$")

from yaml.emitter import Emitter as _PyEmitterBase
from yaml.serializer import Serializer

try:
    from yaml.cyaml import CEmitter as _CEmitter, CParser as _Parser
except ImportError:  # PyYAML built without libyaml: the pure-Python parts, ~7x slower
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    _CEmitter = None

    class _Parser(Reader, Scanner, Parser, Composer):
        """The pure-Python stand-in for CParser."""

        def __init__(self, stream):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)


class _PyEmitter(_PyEmitterBase, Serializer):
    """The pure-Python emitter: unlike libyaml's, it writes emoji as they are."""

    def __init__(self, stream, width=None, allow_unicode=None):
        _PyEmitterBase.__init__(self, stream, width=width, allow_unicode=allow_unicode)
        Serializer.__init__(self)


class _TextResolver(BaseResolver):
    """Resolves only null: every other plain scalar stays text and the schema types it."""


_TextResolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class _UniqueKeys:
    """Refuses a mapping that repeats a key instead of silently keeping the last."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = getattr(key_node, "value", None)
            if isinstance(key, str):
                if key in seen:
                    raise ConstructorError(None, None, f"duplicate key {key!r}",
                                           key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


# ---- ticket files: plain data straight from the parser's events ---------------------------------
#
# A ticket file is text-only data (the schema types it), so it needs no resolver for ints,
# bools or dates and no generic constructor: dicts, lists, str and None are built directly
# from libyaml's events. PyYAML's composer and constructor are generic pure Python and take
# about half of a load; this is what makes a cold index of 100,000 tickets affordable. The
# result is what PyYAML's BaseConstructor with a null-only resolver gives (a test compares
# them), except that a key repeated in a mapping and a recursive alias are refused.

_NULL_TAG = "tag:yaml.org,2002:null"
_NO_KEY = object()


def load_plain(source):
    """Parse one YAML document of text-only data (str, list, dict, None): the canonical form
    svcdesk writes by canonical.read, anything else by libyaml."""
    if type(source) is str:
        data = canonical.read(source)
        if data is not None:
            return data
    return load_by_libyaml(source)


def load_by_libyaml(source):
    """load_plain by libyaml's events, whatever form the YAML takes."""
    parser = _Parser(source)
    try:
        return _build(parser.get_event)
    finally:
        parser.dispose()


def _build(next_event):
    next_event()  # stream start
    event = next_event()
    if type(event) is StreamEndEvent:
        return None
    document = event
    anchors = {}
    stack = []  # [container, key awaiting its value, mark] of each open mapping/sequence
    root = _NO_KEY
    while root is _NO_KEY or stack:
        event = next_event()
        kind = type(event)
        if kind is ScalarEvent:
            value = event.value
            tag = event.tag
            if tag == _NULL_TAG or ((tag is None or tag == "!") and event.implicit[0]
                                    and value in canonical.NULLS):
                value = None
            opened = False
        elif kind is MappingStartEvent:
            value, opened = {}, True
        elif kind is SequenceStartEvent:
            value, opened = [], True
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            top = stack.pop()
            if top[1] is not _NO_KEY:
                top[0][top[1]] = None
            continue
        elif kind is AliasEvent:
            if event.anchor not in anchors:
                raise ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                    event.start_mark)
            value, opened = anchors[event.anchor], False
            if any(value is frame[0] for frame in stack):
                raise ComposerError(None, None, "found a recursive alias", event.start_mark)
        else:
            raise ComposerError(None, None, f"unexpected {kind.__name__}", event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None and kind is not AliasEvent:
            anchors[anchor] = value
        if not stack:
            root = value
        else:
            frame = stack[-1]
            container = frame[0]
            if type(container) is list:
                container.append(value)
            elif frame[1] is _NO_KEY:
                if isinstance(value, (dict, list)):
                    raise ConstructorError("while constructing a mapping", frame[2],
                                           "found unhashable key", event.start_mark)
                if value in container and isinstance(value, str):
                    raise ConstructorError(None, None, f"duplicate key {value!r}",
                                           event.start_mark)
                frame[1] = value
            else:
                container[frame[1]] = value
                frame[1] = _NO_KEY
        if opened:
            stack.append([value, _NO_KEY, event.start_mark])
    next_event()  # document end
    event = next_event()
    if type(event) is not StreamEndEvent:
        raise ComposerError("expected a single document in the stream",
                            document.start_mark, "but found another document",
                            event.start_mark)
    return root


class RulesLoader(_UniqueKeys, _Parser, SafeConstructor, yaml.resolver.Resolver):
    """The standard safe loader (typed scalars), refusing repeated keys and documents whose
    aliases expand to more than MAX_NODES nodes (a "billion laughs" alias bomb)."""

    MAX_NODES = 200_000

    def __init__(self, stream):
        _Parser.__init__(self, stream)
        SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def get_single_data(self):
        """The document's data, once its expanded size is known to be sane."""
        node = self.get_single_node()
        if node is None:
            return None
        sizes: dict = {}

        def size(item) -> int:
            known = sizes.get(id(item))
            if known is not None:
                return known
            sizes[id(item)] = 1  # a recursive alias counts once, then fails in the constructor
            if isinstance(item, yaml.MappingNode):
                total = 1 + sum(size(k) + size(v) for k, v in item.value)
            elif isinstance(item, yaml.SequenceNode):
                total = 1 + sum(size(v) for v in item.value)
            else:
                total = 1
            sizes[id(item)] = total
            return total

        expanded = size(node)
        if expanded > self.MAX_NODES:
            raise ComposerError(None, None, f"its aliases expand to {expanded:,} values, over "
                                f"{self.MAX_NODES:,} (an alias bomb?)", node.start_mark)
        return self.construct_document(node)


class _TicketRepresenter(SafeRepresenter):
    def represent_str(self, data):
        style = "|" if "\n" in data and _block_safe(data) else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_TicketRepresenter.add_representer(str, _TicketRepresenter.represent_str)


def _dumper(emitter):
    class TicketDumper(emitter, _TicketRepresenter, _TextResolver):
        """Block style, readable Chinese, keys in the order given, quoting only as needed."""

        def __init__(self, stream):
            emitter.__init__(self, stream, width=1_000_000, allow_unicode=True)
            _TicketRepresenter.__init__(self, default_flow_style=False, sort_keys=False)
            _TextResolver.__init__(self)

    return TicketDumper


_FAST_DUMPER = _dumper(_CEmitter) if _CEmitter else None
_PY_DUMPER = _dumper(_PyEmitter)


def _block_safe(text: str) -> bool:
    """A literal block keeps these bytes exactly (no CR, no trailing blanks, no odd ends)."""
    if "\r" in text or text != text.rstrip(" \t\n") + text[len(text.rstrip("\n")):]:
        return False
    return not any(line != line.rstrip(" \t") for line in text.split("\n")) and \
        not text.startswith((" ", "\n")) and "\t" not in text


def parse_yaml(text: str, loader=None):
    """Parse one YAML document (text-only data, or with ``loader``); errors keep their marks."""
    if loader is None:
        return load_plain(text)
    parser = loader(text)
    try:
        return parser.get_single_data()
    finally:
        parser.dispose()


def dump_yaml(data) -> str:
    """Write text-only data (str, list, dict) as a ticket-style YAML document."""
    if _FAST_DUMPER is not None:
        text = _emit(_FAST_DUMPER, data)
        if "\\U" not in text:
            return text
        # libyaml escapes characters beyond U+FFFF (emoji); keep them readable instead
    return _emit(_PY_DUMPER, data)


def _emit(dumper_class, data) -> str:
    out = io.StringIO()
    dumper = dumper_class(out)
    try:
        dumper.open()
        dumper.represent(data)
        dumper.close()
    finally:
        dumper.dispose()
    return out.getvalue()


def line_of(text: str, path) -> int | None:
    """Return the 1-based line of the key at ``path`` in YAML ``text`` (or its nearest parent)."""
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and \
                part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def yaml_error_line(exc: yaml.YAMLError) -> int | None:
    """The 1-based line a YAML error points at."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def yaml_error_text(exc: yaml.YAMLError) -> str:
    """A one-line description of a YAML error."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    return f"{context}: {problem}" if context else str(problem)


# ---- files --------------------------------------------------------------------------------

def write_atomic(path: Path, data: bytes, sync: bool = True, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half.

    ``sync``: make the data durable now; ``sync_dir``: make the rename durable now (a batch
    passes False and syncs its folders once at the end)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if sync_dir:
        fsync_dir(path.parent)


def remove_database(path: Path) -> None:
    """Delete an SQLite cache file with its write-ahead log and shared memory, if there."""
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ticket_relpath(number: str) -> str:
    """tickets/YYYY/MM/<number>.yaml for a well-formed ticket number."""
    m = NUMBER_RE.match(number)
    if not m:
        raise ValueError(f"not a ticket number: {number!r}")
    day = m["date"]
    return f"{TICKETS}/{day[:4]}/{day[4:6]}/{number}.yaml"


def number_of(relpath: str) -> str:
    """The ticket number a ticket file's path names (tickets/YYYY/MM/<number>.yaml)."""
    return relpath.rsplit("/", 1)[-1][:-len(".yaml")]


ATTACHMENTS = "attachments"


def attachment_folder(number: str, uid: str) -> str:
    """attachments/YYYY/MM/<uid>: the folder of a ticket's files, by the month of its number
    (which a renumbering keeps) and its uid (which nothing changes)."""
    day = NUMBER_RE.match(number)["date"]
    return f"{ATTACHMENTS}/{day[:4]}/{day[4:6]}/{uid}"


def attachment_relpath(number: str, uid: str, entry: str) -> str:
    """Where the file of ``entry`` (``<digest>/<name>``, domain.files) lies in the desk."""
    return f"{attachment_folder(number, uid)}/{entry}"


def ticket_files(root: Path):
    """Yield the relative path of every ticket file in the desk, oldest month first."""
    base = root / TICKETS
    for year in _sorted_dirs(base, 4):
        for month in _sorted_dirs(year, 2):
            for entry in sorted(os.scandir(month), key=lambda e: e.name):
                if _TICKET_NAME.match(entry.name):
                    yield f"{TICKETS}/{year.name}/{month.name}/{entry.name}"


def _sorted_dirs(folder: Path, width: int):
    try:
        entries = sorted(e.name for e in os.scandir(folder)
                         if e.is_dir() and len(e.name) == width and e.name.isdigit())
    except FileNotFoundError:
        return []
    return [folder / name for name in entries]


def candidates(root: Path, ref: TicketRef) -> list:
    """Relative paths of ticket files on disk that a full ``ref`` (date complete) names."""
    day = ref.date_suffix
    folder = root / TICKETS / day[:4] / day[4:6]
    return [f"{TICKETS}/{day[:4]}/{day[4:6]}/{n}" for n in ticket_names(folder)
            if ref.matches(n[:-5])]


def numbers_of_day(root: Path, prefix: str, day) -> list:
    """Numbers of the tickets of ``day`` whose files are in its month's folder (a listing of
    names only: a month of a busy desk holds thousands)."""
    stem = f"{prefix}-{day:%Y%m%d}-"
    try:
        names = os.listdir(root / TICKETS / f"{day:%Y}" / f"{day:%m}")
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [n[:-5] for n in names if n.startswith(stem) and _TICKET_NAME.match(n)]


def is_ticket_path(relpath: str) -> bool:
    """Whether ``relpath`` is where a ticket file lives: tickets/YYYY/MM/<number>.yaml (not a
    README, a .gitkeep or a file in the wrong folder)."""
    parts = relpath.split("/")
    return (len(parts) == 4 and parts[0] == TICKETS and len(parts[1]) == 4
            and parts[1].isdigit() and len(parts[2]) == 2 and parts[2].isdigit()
            and _TICKET_NAME.match(parts[3]) is not None)


def ticket_names(folder: Path) -> list:
    """The names of ticket files directly in ``folder`` (none if it is not a folder)."""
    try:
        return [e.name for e in os.scandir(folder) if _TICKET_NAME.match(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []


# ---- tickets ---------------------------------------------------------------------------------

def decode_ticket(schema: model.Schema, text: str, file: str) -> model.Ticket:
    """Parse and type a ticket file's text; raise TicketFileError naming file, line and key."""
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise TicketFileError(file, f"not valid YAML: {yaml_error_text(exc)}",
                              yaml_error_line(exc)) from None
    try:
        return model.from_plain(schema, data)
    except model.FieldError as exc:
        raise TicketFileError(file, exc.args[0], line_of(text, exc.path)) from None


def read_ticket(root: Path, schema: model.Schema, relpath: str) -> tuple:
    """Return (ticket, raw bytes) of the ticket file at ``relpath``."""
    try:
        raw = (root / relpath).read_bytes()
    except FileNotFoundError:
        raise TicketFileError(relpath, "the file is gone") from None
    return ticket_from_bytes(schema, raw, relpath), raw


def ticket_from_bytes(schema: model.Schema, raw: bytes, relpath: str) -> model.Ticket:
    """Decode a ticket file's bytes; raise TicketFileError naming file, line and key."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TicketFileError(relpath, f"not UTF-8 text (byte {exc.start})") from None
    return decode_ticket(schema, text, relpath)


def salvage_ticket(schema: model.Schema, raw: bytes, relpath: str) -> tuple:
    """(ticket, events kept, events in the file) from a file whose history is partly broken;
    raise TicketFileError when nothing can be read."""
    try:
        data = parse_yaml(raw.decode("utf-8"))
        return model.salvage(schema, data)
    except (UnicodeDecodeError, yaml.YAMLError, model.FieldError) as exc:
        raise TicketFileError(relpath, f"nothing can be read: {exc}") from None


def encode_ticket(ticket: model.Ticket) -> bytes:
    """The bytes of a ticket file."""
    return dump_yaml(model.to_plain(ticket)).encode("utf-8")


def read_values(text: str, source: str) -> dict:
    """Parse user-given ticket values (YAML or JSON text) into plain nested data. Text that
    is JSON is read as JSON whatever its source (YAML's reader refuses JSON's escaped
    surrogate pairs, such as an emoji written as \\ud83d\\ude00)."""
    as_json = source.endswith(".json")
    try:
        if as_json or text.lstrip()[:1] in ("{", "["):
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                if as_json:
                    raise
                data = parse_yaml(text)  # a YAML flow mapping, or broken: YAML says which
        else:
            data = parse_yaml(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{source}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        line = yaml_error_line(exc)
        raise ValidationError(f"{source}{':' + str(line) if line else ''}: "
                              f"not valid YAML: {yaml_error_text(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError(f"{source}: expected a mapping of fields to values")
    return data


# ---- rules -------------------------------------------------------------------------------------

def read_rules(root: Path) -> rules_mod.Rules:
    """Load and validate the desk's rules.yaml; raise RulesError naming file, line and key."""
    path = root / RULES
    return rules_from_text(rules_bytes(path).decode("utf-8"), str(path))


def rules_bytes(path: Path) -> bytes:
    """The bytes of rules.yaml at ``path``; RulesError when it is missing or not UTF-8."""
    try:
        data = path.read_bytes()
        data.decode("utf-8")
    except FileNotFoundError:
        raise RulesError("the desk has no rules.yaml", file=str(path)) from None
    except UnicodeDecodeError:
        raise RulesError("not UTF-8 text", file=str(path)) from None
    return data


def rules_from_text(text: str, file: str) -> rules_mod.Rules:
    """Validate rules.yaml's ``text``; errors name ``file``, the line and the key."""
    try:
        data = parse_yaml(text, RulesLoader)
    except yaml.YAMLError as exc:
        raise RulesError(f"not valid YAML: {yaml_error_text(exc)}", file=file,
                         line=yaml_error_line(exc)) from None
    try:
        return rules_mod.compile_rules(data)
    except RulesError as exc:
        exc.file, exc.line = file, line_of(text, exc.path)
        raise


# ---- the desk's own files over the ones svcdesk ships (templates/tickets, replies) --------------

MAX_TEMPLATE = 256 * 1024  # bytes: a ticket template or a reply is a page, not a book


def template_files(root: Path, folder: str, suffix: str) -> dict:
    """{name: path} of ``templates/FOLDER/*SUFFIX``: the desk's own, then the shipped ones
    it does not override."""
    found = {}
    for base in (DEFAULTS / "templates" / folder, root / "templates" / folder):
        if base.is_dir():
            for path in sorted(base.glob("*" + suffix)):
                found[path.name[:-len(suffix)]] = path
    return dict(sorted(found.items()))


def template_text(root: Path, folder: str, name: str, suffix: str) -> tuple | None:
    """(path as shown, text) of one template, the desk's own first, else None; a file too
    large or not UTF-8 is a ValidationError naming it."""
    for base, shown in ((root / "templates", "templates"),
                        (DEFAULTS / "templates", "svcdesk/templates")):
        path = base / folder / (name + suffix)
        try:
            if path.stat().st_size > MAX_TEMPLATE:
                raise ValidationError(f"{shown}/{folder}/{name}{suffix}: larger than "
                                      f"{MAX_TEMPLATE // 1024} KiB")
            return f"{shown}/{folder}/{name}{suffix}", path.read_bytes().decode("utf-8")
        except (FileNotFoundError, NotADirectoryError):
            continue
        except UnicodeDecodeError:
            raise ValidationError(f"{shown}/{folder}/{name}{suffix}: not UTF-8 text") from None
    return None


def read_yaml_file(text: str, shown: str, first_line: int = 1):
    """Text-only data of a YAML file a person wrote (``text`` starting at ``first_line`` of
    the file, as a front matter does); ValidationError naming file and line."""
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        line = yaml_error_line(exc)
        where = f":{line + first_line - 1}" if line else ""
        raise ValidationError(f"{shown}{where}: not valid YAML: {yaml_error_text(exc)}") \
            from None
