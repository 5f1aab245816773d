"""The seam between the plain path and the speed machinery (svcdesk/speed).

The adapters ask one object the questions a cache can answer faster than git: what changed
in the ticket folders since a mark, which paths svcdesk's own last commits wrote, HEAD's
entries of a folder, a ticket's commits, the compiled rules. The plain ``Shortcuts`` knows
none of it, so every answer is "ask git" (None) or the plain work itself; ``speed`` answers
from the command server's watch, the step records, the trail and the rules cache. Setting
``SVCDESK_SPEED=0`` (or off, no, false) makes every command take the plain path: slower,
never different.
"""

from pathlib import Path

from svcdesk.base.settings import speed_on


class Shortcuts:
    """The plain path: no shortcut, git is asked every time."""

    def token(self) -> str | None:
        """A mark of what the command server has seen change in the ticket folders (None:
        no server watches this desk, git must look)."""
        return None

    def changed_since(self, token: str | None) -> set | None:
        """Paths changed since ``token`` (None: cannot tell, git must look)."""
        return None

    def stepped(self, since: str | None, head: str | None) -> set | None:
        """Paths svcdesk's own commits wrote from ``since`` to ``head`` (None: not known,
        git must compare the trees)."""
        return None

    def known_trees(self, head: str | None) -> dict:
        """{folder: {name: blob id}} at ``head`` that a cache holds (none: git ls-tree)."""
        return {}

    def committed(self, parent: str | None, commit: str, written: dict,
                  folders: dict) -> dict:
        """Told that ``commit`` wrote ``written`` ({relpath: bytes or None}) on top of
        ``parent``, whose folders ``folders`` were read; return the folders as ``commit``
        has them, as far as known (none: the next read asks git)."""
        return {}

    def landed(self) -> object:
        """A mark that moves with every commit svcdesk makes in this desk (None: unknown)."""
        return None

    def tidy(self, git) -> None:
        """Keep the object store in shape after a commit (git's own gc --auto when due)."""
        git.collect_garbage()

    def rules(self, root: Path):
        """The desk's checked rules."""
        from svcdesk.adapters import store

        return store.read_rules(root)

    def commits(self, git, relpath: str, head: str | None, progress=None) -> list | None:
        """The commits that touched ``relpath``, newest first (None: ask git log)."""
        return None

    def trail_size(self) -> int | None:
        """How many commits a trail of the history holds (None: none is kept)."""
        return None

    def forget(self) -> None:
        """Throw away what the caches hold about the history (the next read walks it)."""


def server_token(root: Path) -> str | None:
    """Shortcuts.token() of the desk at ``root`` before anything heavy is imported (the
    command line asks it first, to start git at once when no server watches the desk)."""
    if not speed_on():
        return None
    try:
        from svcdesk.speed.watch import token
    except ImportError:
        return None
    return token(root)


def shortcuts_for(root: Path, state=None) -> Shortcuts:
    """The shortcuts for the desk at ``root`` (its ``state``, adapters.state.State): the
    speed machinery's, unless SVCDESK_SPEED is off."""
    if not speed_on():
        return Shortcuts()
    try:
        from svcdesk.speed.shortcuts import Fast
    except ImportError:  # the speed machinery is not installed: the plain path
        return Shortcuts()
    return Fast(root, state)
