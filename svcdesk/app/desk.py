"""The desk: opening it, who is acting, finding its tickets. The use cases are the other
modules of app/ (intake, work, clocks, reports, delivery, admin), each a few functions that
take a Desk."""

import os
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.adapters.change import Change, holder_text
from svcdesk.adapters.discovery import find_root, git_dir_of
from svcdesk.adapters.index import Index
from svcdesk.adapters.repo import Git, Identity
from svcdesk.adapters.shortcuts import Shortcuts, shortcuts_for
from svcdesk.adapters.state import State
from svcdesk.app.opening import Opening
from svcdesk.base import clock, model
from svcdesk.base.errors import (AmbiguousTicketError, GitError, LockTimeoutError, MergeError,
                                 NotSetUpError, ReadOnlyDeskError, RulesError,
                                 TicketNotFoundError, UsageError)
from svcdesk.base.fields import is_email
from svcdesk.base.identity import TicketRef

LOCK_TIMEOUT = 30.0
SYSTEM = Identity("svcdesk", "svcdesk@localhost")  # the author of the desk's own time rules


class Actor(NamedTuple):
    """Who is acting: an agent key (or an email for non-agents) and their git identity."""

    key: str
    identity: Identity


def open_desk(named: str | None, agent: str | None, command: str, progress=None,
              opening: Opening | None = None) -> "Desk":
    """The desk --desk/SVCDESK_DESK names, else the nearest one upward."""
    root = opening.root if opening and opening.root else find_root(named, Path.cwd())
    desk = Desk(root, agent, command, probe=opening.probe if opening else None,
                progress=progress)
    desk.whole_command = True  # its Ctrl-C after a commit is said at the end (interrupted)
    if command not in LOOKS_ONLY:
        desk._settle()
    return desk


# commands that look at what a killed change left as it is (the others, reading, first put
# it right, as the next change would: see Desk._settle)
LOOKS_ONLY = ("doctor",)


class Desk:
    """One desk: its rules, its git repository and index, and who is acting on it."""

    def __init__(self, root: Path, agent: str | None = None, command: str = "",
                 git_dir: Path | None = None, progress=None, probe=None, rules=None):
        """``rules``: the rules to use instead of reading the desk's (init, before its first
        commit writes them)."""
        self.root = root
        self.git = Git(root, git_dir or git_dir_of(root))
        self.state = State(self.git.git_dir)
        self.shortcuts: Shortcuts = shortcuts_for(root, self.state)
        try:
            self.rules = rules or self.shortcuts.rules(root)
        except RulesError as exc:
            left = self.git.unfinished()  # conflict markers a merge left in rules.yaml
            if left is None:
                raise
            what, how = left
            raise MergeError(f"{what} is unfinished in this desk ({exc}); {how}, then run "
                             "the command again") from None
        self._agent = agent or os.environ.get("SVCDESK_AGENT") or None
        self._command = command
        self._actor: Actor | None = None
        self.progress = progress  # progress(total) -> bar, for long work
        self._index: Index | None = None
        self._records = None
        self._probe = probe
        self.warnings: list = []  # said after the command (see leftovers)
        self.whole_command = False  # opened for one command line (see open_desk)
        self.kept: dict = {}  # what a use case keeps for the rest of the command

    @property
    def index(self) -> Index:
        """The ticket index (brought up to date by each of its reads)."""
        if self._index is None:
            self._index = Index(self.root, self.git, self.state, self.rules.schema,
                                self.shortcuts, self.progress, self._probe,
                                self.rules.service.response_actions)
        return self._index

    @property
    def records(self):
        """The lookup index of customers, units and parts (adapters.records.RecordIndex)."""
        if self._records is None:
            from svcdesk.adapters.records import RecordIndex

            self._records = RecordIndex(self.git, self.state, self.rules.records)
        return self._records

    def now(self) -> datetime:
        """Now, in the desk's time zone (SVCDESK_NOW when set)."""
        return clock.now(self.rules.tz)

    def actor(self) -> Actor:
        """The acting agent: --as, SVCDESK_AGENT, or git's user.email matched to an agent.

        One rule wherever the name comes from: an agent of the desk (by key or email) acts as
        that agent; an email address that is no agent's acts as itself, recorded by that
        address (someone helping out, a customer's reply); anything else is refused."""
        if self._actor is None:
            self._actor = self._resolve_actor()
        return self._actor

    def act_as(self, actor: Actor) -> None:
        """Act as ``actor`` for the rest of the command (init, before any agent exists)."""
        self._actor = actor

    def _resolve_actor(self) -> Actor:
        agents = self.rules.agents
        name, who = self._agent, None
        if not name:
            user = self.git.user()
            name, who = user.get("email", ""), user.get("name")
            if not name:
                raise UsageError("who is acting? pass --as AGENT or set SVCDESK_AGENT "
                                 f"(agents: {', '.join(agents)}), or set git's user.email")
        agent = agents.get(name) or self.rules.agent_by_email(name)
        if agent is not None:
            return Actor(agent.key, Identity(agent.name, agent.email))
        if is_email(name):
            return Actor(name, Identity(who or name, name))
        raise UsageError(f"unknown agent {name!r} (agents in rules.yaml: "
                         + ", ".join(agents) + "; or give an email address)")

    def change(self, who: str | None = None, quick: bool = False, shared: bool = True):
        """One change of the desk: under its lock, files written atomically, one commit.
        On a desk that syncs by itself (desk.sync: auto) and with ``shared``, it pulls
        before and pushes after, under the same lock (app.sync.AutoSync)."""
        timeout = float(os.environ.get("SVCDESK_LOCK_TIMEOUT") or LOCK_TIMEOUT)
        holder = holder_text(self._command or "command", who or self.actor().key, self.now())
        auto = shared and self.rules.sync == "auto"
        change = Change(self.root, self.git, self.state, self.shortcuts, holder, timeout,
                        quick and not auto, after_commit=self._after_commit())
        if not auto:
            return change
        from svcdesk.app.sync import AutoSync

        return AutoSync(self, change)

    def _settle(self) -> None:
        """For a command that may only read: finish or undo what a killed change left (its
        journal, a sync's half-done merge), so that no reader sees its half-written files.
        Taking a change does that; it is taken only when the desk lock is free at once (a
        change that holds it is alive and finishes itself) and the desk can be written,
        else the next change does it and says what stops it."""
        if not (self.state.journal.exists() or self.state.merging.exists()):
            return
        holder = holder_text(self._command or "command", SYSTEM.name, self.now())
        try:
            with Change(self.root, self.git, self.state, self.shortcuts, holder, 0):
                pass
        except (LockTimeoutError, ReadOnlyDeskError, NotSetUpError, GitError, OSError):
            pass

    def _after_commit(self) -> tuple:
        """What this desk does as each commit of its changes lands: its index asks git again;
        for a whole command line, a Ctrl-C now waits for the command to finish what the
        change started (see adapters.interrupts and interrupted())."""
        after = ()
        if self.whole_command:  # first: nothing after the commit may be cut short
            from svcdesk.adapters import interrupts

            after = (lambda sha: interrupts.defer(),)
        return after + (self._committed,)

    def _committed(self, sha: str) -> None:
        """After a commit of this desk's: its index asks git again at the next read (what a
        server's watch knew when this process began is older than the commit)."""
        if self._index is not None:
            self._index.recheck()
        if self._records is not None:
            self._records.recheck()

    def locate(self, ref: TicketRef) -> str:
        """The relative path of the one ticket ``ref`` names (a full number needs no index)."""
        if ref.is_full:
            found = store.candidates(self.root, ref)
        else:
            found = self.index.find(ref)
        if not found and self.rules.sync == "auto" and not self.kept.get("pulled"):
            from svcdesk.app.sync import pull  # made in another clone, perhaps: look there

            self.kept["pulled"] = True
            if pull(self):
                return self.locate(ref)
        if not found:
            raise TicketNotFoundError(f"no ticket {ref}")
        if len(found) > 1:
            names = ", ".join(store.number_of(p) for p in found[:5])
            raise AmbiguousTicketError(f"{ref} matches {len(found)} tickets ({names}"
                                       f"{', …' if len(found) > 5 else ''}); give more of it")
        return found[0]

    def load(self, ref: TicketRef) -> model.Ticket:
        """The ticket ``ref`` names."""
        relpath = self.locate(ref)
        self.index.known_problem(relpath)
        ticket, _ = store.read_ticket(self.root, self.rules.schema, relpath)
        return ticket

    def read_file(self, ref: TicketRef) -> bytes:
        """The ticket file's bytes, as on disk."""
        return (self.root / self.locate(ref)).read_bytes()


def leftovers(desk: Desk) -> list:
    """What the command leaves to attend to: its warnings, notices a template stopped (one
    line per distinct error, not per ticket, see delivery.queue_notices) and years a
    calendar counted without official holiday data."""
    out = list(desk.warnings)
    for (template, error), numbers in desk.kept.get("failures", {}).items():
        out.append(f"notice {template} not sent for {len(numbers)} ticket(s) ("
                   + ", ".join(numbers[:3]) + (", …" if len(numbers) > 3 else "")
                   + f"): {error} (fix it; `svcdesk notify send` retries)")
    for calendar in desk.rules.service.calendars.values():
        for year in sorted(calendar.uncovered):
            out.append(f"calendar {calendar.name} ({calendar.base_name}) has no official "
                       f"holiday data for {year}; it counted plain weekdays. List {year}'s "
                       f"holidays and make-up days under calendars.{calendar.name} in "
                       "rules.yaml")
    return out


def interrupted() -> bool:
    """Whether a Ctrl-C came after the command's change was committed (it was then let
    finish what the change started, its notices queued), to be said as such."""
    from svcdesk.adapters import interrupts

    return interrupts.end()
