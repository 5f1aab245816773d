"""The error tree: every failure a user can cause is one of these, with its exit code."""

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in README.md (Exit codes)."""

    OK = 0
    FAILURE = 1          # anything unexpected (a bug: run with --debug and report it)
    USAGE = 2            # bad command line: unknown option, malformed ticket ID, bad value
    NO_DESK = 3          # no desk found, or init refused to overwrite one
    RULES = 4            # rules.yaml is invalid
    NOT_FOUND = 5        # no such ticket, or a short ID matches several
    INVALID = 6          # a ticket value is invalid: unknown field, bad phone/date, missing field
    TICKET_FILE = 7      # a ticket file cannot be read (malformed YAML, broken history)
    CONFLICT = 8         # uncommitted hand edits, or a stale state svcdesk will not overwrite
    LOCKED = 9           # the desk lock is held by another process past the wait
    GIT = 10             # git failed
    WORKFLOW = 11        # a transition the workflow does not allow
    TEMPLATE = 12        # a template does not parse, names an unknown variable, or breaks out
    DELIVERY = 13        # a notice could not be delivered (SMTP unreachable, login refused)
    READ_ONLY = 14       # the desk cannot be written: a read-only file system, no permission,
                         # a full disk
    NOT_SET_UP = 15      # this clone lacks svcdesk's set-up (the ticket merge driver)
    REMOTE = 16          # a server the desk talks to (its git remote, its mailbox) fails it
    UNHEALTHY = 17       # doctor found problems (left unfixed, or needing a person)


class SvcdeskError(Exception):
    """Base of every error svcdesk reports to a user."""

    exit_code = ExitCode.FAILURE


class UsageError(SvcdeskError):
    """The command line asks for something malformed."""

    exit_code = ExitCode.USAGE


class DeskNotFoundError(SvcdeskError):
    """No desk (a folder with rules.yaml) was found."""

    exit_code = ExitCode.NO_DESK


class DeskExistsError(SvcdeskError):
    """`init` was pointed at a folder that already holds a desk."""

    exit_code = ExitCode.NO_DESK


class RulesError(SvcdeskError):
    """rules.yaml is malformed or breaks the rules schema."""

    exit_code = ExitCode.RULES

    def __init__(self, message, path=(), file=None, line=None):
        self.message, self.path, self.file, self.line = message, tuple(path), file, line
        super().__init__(message)

    def __str__(self):
        where = self.file or "rules.yaml"
        if self.line is not None:
            where += f":{self.line}"
        key = ".".join(str(p) for p in self.path)
        return f"{where}: {key + ': ' if key else ''}{self.message}"


class TicketNotFoundError(SvcdeskError):
    """No ticket matches the given ID."""

    exit_code = ExitCode.NOT_FOUND


class AmbiguousTicketError(TicketNotFoundError):
    """A short ID matches more than one ticket."""


class ValidationError(SvcdeskError):
    """A ticket value is missing, unknown or malformed."""

    exit_code = ExitCode.INVALID


class MissingFieldsError(ValidationError):
    """Required fields of the ticket's type are missing."""

    def __init__(self, ticket_type, fields):
        self.ticket_type, self.fields = ticket_type, list(fields)
        names = ", ".join(self.fields)
        super().__init__(
            f"missing required field(s) for type '{ticket_type}': {names} "
            f"(give them as options or --set FIELD=VALUE)"
        )


class TicketFileError(SvcdeskError):
    """A ticket file cannot be read or does not match its history."""

    exit_code = ExitCode.TICKET_FILE

    def __init__(self, file, message, line=None):
        self.file, self.line, self.message = str(file), line, message
        where = self.file if line is None else f"{self.file}:{line}"
        super().__init__(f"{where}: {message}")


class UncommittedChangesError(SvcdeskError):
    """A file svcdesk would write has changes that are not committed."""

    exit_code = ExitCode.CONFLICT


class LockTimeoutError(SvcdeskError):
    """The desk lock stayed held by another process for longer than the wait."""

    exit_code = ExitCode.LOCKED


class ReadOnlyDeskError(SvcdeskError):
    """A change was asked of a desk whose files cannot be written."""

    exit_code = ExitCode.READ_ONLY


class GitError(SvcdeskError):
    """A git command failed."""

    exit_code = ExitCode.GIT


class WorkflowError(SvcdeskError):
    """The workflow does not allow this change in the ticket's current state."""

    exit_code = ExitCode.WORKFLOW


class TicketIndexError(SvcdeskError):
    """The ticket index could not be used (held by another command too long, disk full...)."""

    exit_code = ExitCode.FAILURE


class TemplateError(SvcdeskError):
    """A template has a syntax error, uses an unknown variable, or tries to leave the
    sandbox; the message names the file and line."""

    exit_code = ExitCode.TEMPLATE


class DeliveryError(SvcdeskError):
    """A notice could not be delivered; it stays queued."""

    exit_code = ExitCode.DELIVERY


class NotSetUpError(SvcdeskError):
    """This clone of a desk lacks the per-clone set-up (`svcdesk setup`)."""

    exit_code = ExitCode.NOT_SET_UP


class MergeError(SvcdeskError):
    """Two versions of a file cannot be merged, or a merge is unfinished."""

    exit_code = ExitCode.CONFLICT


class RemoteError(SvcdeskError):
    """The desk's remote cannot be reached, or refuses what is pushed."""

    exit_code = ExitCode.REMOTE
