"""The svcdesk command line: click wiring only; every command makes one call on the library."""

import errno
import os
import sys

import click

from svcdesk import __version__
from svcdesk.base.errors import ExitCode, SvcdeskError


# commands that read the index from the start (new, assign and classify for open loads)
INDEXED = ("list", "search", "index", "new", "assign", "classify", "agents", "rules", "sla",
           "report")
# of those, commands that need the desk only as committed (nor git's look at every file,
# which grows with the desk: ~180 ms at 100,000 tickets): `new` counts open loads, the
# report reviews what the team recorded, and `sla check` changes only committed tickets (it
# names one with an uncommitted hand edit and leaves it alone) -- an uncommitted hand edit
# is not the team's yet
AS_COMMITTED = ("new", "report", "sla")
# what the disk says when the desk cannot be written: full, over quota, read-only (exit 14)
_UNWRITABLE = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


class State:
    """What the global options say, and the desk they name (opened on first use)."""

    def __init__(self, desk: str | None, agent: str | None, pager: bool = True):
        self.desk_path, self.agent = desk, agent
        self.pager = pager  # a long listing on a terminal goes through the pager
        self._desk = None
        self._opening = None

    def prefetch(self, worktree: bool = True) -> None:
        """Find the desk and start git on the index's freshness check, before the imports
        the command needs (see app.opening.prefetch)."""
        from svcdesk.app.opening import prefetch

        self._opening = prefetch(self.desk_path, worktree)

    def desk(self):
        """The desk, opened for the running subcommand."""
        return self.desk_for(click.get_current_context().info_name)

    def desk_for(self, command: str):
        """The desk, opened for ``command``."""
        if self._desk is None:
            from svcdesk.app.desk import open_desk
            from svcdesk.cli.output import progress_factory

            self._desk = open_desk(self.desk_path, self.agent, command,
                                   progress_factory("Indexing tickets"), self._opening)
        return self._desk


# Where each command lives: a command's module is imported only when it runs (or for --help),
# so `svcdesk show` does not pay for the report, notice and rules-editing commands.
MODULES = {
    "admin": ("init", "index", "doctor"),
    "tickets": ("new", "show", "list", "search", "edit", "comment", "log", "fields"),
    "work": ("classify", "assign", "priority", "start", "wait", "resume", "resolve", "close",
             "reopen", "escalate", "rate", "do"),
    "setup": ("rules", "agents"),
    "service": ("sla", "notify", "report"),
    "team": ("clone", "setup", "sync", "merge-file"),
    "mail": ("mail",),
    "files": ("attach", "attachment"),
    "imports": ("import",),
    "records": ("customer", "unit"),
    "parts": ("parts", "quote", "approve", "decline", "charge"),
    "answers": ("templates", "replies", "similar", "kb"),
    "links": ("link", "unlink", "merge"),
    "visits": ("visit", "depart", "arrive", "leave", "visits"),
}
_HOME = {name: f"svcdesk.cli.{module}" for module, names in MODULES.items() for name in names}


def command_names() -> set:
    """The names of svcdesk's own commands."""
    return set(_HOME)


def command_modules() -> list:
    """The full names of every module that holds commands."""
    return sorted(set(_HOME.values()))


def add_module(module: str, names) -> None:
    """Commands ``names`` of a module outside cli/ (the launcher adds the speed machinery's
    `server` this way, so cli/ never imports it)."""
    _HOME.update(dict.fromkeys(names, module))


def _declared_action(ctx, name: str):
    """The command of an action the desk's workflow declares (`svcdesk audit ID`), when
    ``name`` is no command of svcdesk's; None when there is no such desk or action."""
    import re

    if not re.fullmatch(r"[a-z][a-z0-9_\-]*", name or ""):
        return None
    state = ctx.obj if isinstance(ctx.obj, State) else State(ctx.params.get("desk_path"),
                                                              ctx.params.get("agent"))
    from svcdesk.base.errors import DeskNotFoundError

    try:  # a broken rules.yaml says so: the name may be an action it would declare
        desk = state.desk_for(name)
    except DeskNotFoundError:
        return None
    from svcdesk.cli.work import declared

    command = declared(desk, name)
    if command is not None:
        ctx.obj = state
    return command


class SvcdeskGroup(click.Group):
    """The svcdesk group: its main() turns every error into one line and an exit code;
    its commands are loaded from their module on first use."""

    def list_commands(self, ctx):
        return sorted(_HOME)

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self.commands and cmd_name in _HOME:
            load_commands(_HOME[cmd_name])
        if cmd_name == "server" and cmd_name not in _HOME:  # not added by the launcher
            from svcdesk.base.errors import UsageError

            raise UsageError("the command server is part of the speed machinery, which "
                             "SVCDESK_SPEED=0 switches off (or which is not installed)")
        found = self.commands.get(cmd_name)
        if found is None and cmd_name not in _HOME:
            found = _declared_action(ctx, cmd_name)
        return found

    def main(self, args=None, prog_name=None, **extra):
        """Run, then exit with the documented code (also under click's CliRunner)."""
        argv = list(sys.argv[1:] if args is None else args)
        debug = _debug(argv) or bool(os.environ.get("SVCDESK_DEBUG"))
        _standard_streams()
        extra["standalone_mode"] = False
        for position, arg in enumerate(argv, 1):
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:  # bytes the locale could not decode, kept as surrogates
                shown = os.fsencode(arg)[:60]
                sys.exit(_fail(f"argument {position} is not valid UTF-8 text ({shown!r}); "
                               "nothing was changed", ExitCode.USAGE, False))
        try:
            code = super().main(argv, prog_name=prog_name or "svcdesk", **extra)
        except SvcdeskError as exc:
            code = _fail(str(exc), exc.exit_code, debug)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            code = _fail(exc.format_message().replace("\n", " ") + hint, exc.exit_code, debug)
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            code = 130
        except BrokenPipeError:
            # the reader went away (svcdesk list | head): nothing worth a message
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = ExitCode.OK
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            code = _fail(f"{exc.strerror or exc}{where}", ExitCode.READ_ONLY if exc.errno in
                         _UNWRITABLE else ExitCode.FAILURE, debug)
        except Exception as exc:  # a bug: one line, the traceback with --debug
            code = _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug "
                         "and report it)", ExitCode.FAILURE, debug)
        if _interrupted_after_commit():
            click.echo("Interrupted after the change was committed: it was let finish (its "
                       "notices are queued), and it stands", err=True)
            code = 130
        sys.exit(int(code or 0))


@click.group(cls=SvcdeskGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="svcdesk")
@click.option("--desk", "desk_path", metavar="PATH", envvar="SVCDESK_DESK",
              help="The desk to use (default: SVCDESK_DESK, else the nearest folder upward "
                   "holding rules.yaml).")
@click.option("--as", "agent", metavar="AGENT", envvar="SVCDESK_AGENT",
              help="Act as this agent (default: SVCDESK_AGENT, else git's user.email).")
@click.option("--debug", is_flag=True, help="Show a traceback when a command fails.")
@click.option("--no-pager", is_flag=True,
              help="Print a long listing as it is, not through the pager (SVCDESK_PAGER, "
                   "else PAGER, else less) it goes through on a terminal.")
@click.pass_context
def cli(ctx, desk_path, agent, debug, no_pager):
    """svcdesk — an after-sales service desk (售后工单系统) whose tickets live in git.

    Set SVCDESK_NOW (ISO 8601) to run any command at another time.
    """
    if not isinstance(ctx.obj, State):  # (a declared action's command made it already)
        ctx.obj = State(desk_path, agent, not no_pager)
    if ctx.invoked_subcommand in INDEXED:
        ctx.obj.prefetch(worktree=ctx.invoked_subcommand not in AS_COMMITTED)


@cli.result_callback()
@click.pass_context
def _warnings(ctx, result, **_):
    """Say what a command left to attend to: notices that failed, calendars without data."""
    desk = getattr(ctx.obj, "_desk", None)
    if desk is not None:
        from svcdesk.app.desk import leftovers
        from svcdesk.cli.output import echo

        for warning in leftovers(desk):
            echo(f"Warning: {warning}", err=True)
    return result


def load_commands(name: str) -> None:
    """Import one command module (its full name) and add its commands to the group."""
    from importlib import import_module

    module = import_module(name)
    for command in module.COMMANDS:
        cli.add_command(command)


def main(args=None, prog_name="svcdesk"):
    """The console script: run svcdesk and exit with its code."""
    cli.main(args, prog_name=prog_name)


def _interrupted_after_commit() -> bool:
    desk = sys.modules.get("svcdesk.app.desk")  # none opened (--help, --version): no change
    return desk is not None and desk.interrupted()


def _standard_streams() -> None:
    """A standard stream the caller closed (svcdesk new --from - <&-) reads as empty and
    writes nowhere, as /dev/null does, instead of being None."""
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode, encoding="utf-8"))


# the global options that take a value: --debug counts only among the global options
_VALUED = ("--desk", "--as")


def _debug(argv: list) -> bool:
    """Whether --debug is among the global options (before the command's name): as an
    option's value or a command's argument it is just text."""
    taking = False
    for arg in argv:
        if taking:
            taking = False
        elif arg == "--debug":
            return True
        elif arg in _VALUED:
            taking = True
        elif not arg.startswith("-") or arg == "--":
            return False
    return False


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exc()
    click.echo(f"Error: {_said(message)}", err=True)
    return code


def _said(message: str) -> str:
    """``message`` as an error line may repeat it: a long word (a 100,000-character
    argument) cut short, a password in a URL masked, nothing that cannot be printed."""
    import re

    message = re.sub(r"(\w:/+[^/\s:@]*:)[^/\s@]*@", r"\1***@", message)  # even as a path
    message = re.sub(r"\S{121,}", lambda m: m.group(0)[:60] + f"…({len(m.group(0))} "
                     "characters)", message)
    if len(message) > 2000:
        message = message[:2000] + "…"
    return message.encode("utf-8", "backslashreplace").decode("utf-8")
