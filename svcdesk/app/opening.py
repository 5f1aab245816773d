"""Finding the desk before the command's imports: git starts on the index's freshness
check at once, and works while Python imports the rest (so this module imports little)."""

from pathlib import Path
from typing import NamedTuple

from svcdesk.adapters.discovery import TICKETS, find_root
from svcdesk.adapters.repo import Git
from svcdesk.adapters.shortcuts import server_token
from svcdesk.base.errors import SvcdeskError

class Opening(NamedTuple):
    """A desk found before the command's imports, with git already checking its index's
    freshness (see prefetch)."""

    root: Path | None
    probe: object = None  # repo.Probe


def prefetch(named: str | None, worktree: bool = True) -> Opening:
    """Find the desk and start git on the index's freshness check, before the imports the
    command needs: the stat of every ticket file then costs no waiting (without
    ``worktree``, the check is of HEAD only: see repo.Probe). Nothing when there is no desk:
    the command itself says what is wrong, or shows its --help."""
    try:
        root = find_root(named, Path.cwd())
        if server_token(root) is not None:  # the server knows what changed
            return Opening(root)
        return Opening(root, Git(root).probe(TICKETS, worktree))
    except SvcdeskError:
        return Opening(None)
