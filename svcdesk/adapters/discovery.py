"""Where the desk is: its folder (found like git finds .git) and its git directory.

Kept apart and light so that the command line can find the desk, and start git on the
index's freshness check, before it imports the rest of svcdesk.
"""

import os
from pathlib import Path

from svcdesk.base.errors import DeskNotFoundError, GitError

RULES = "rules.yaml"
TICKETS = "tickets"  # where the ticket files live


def find_root(explicit: str | None, start: Path) -> Path:
    """The desk named by --desk/SVCDESK_DESK, or the nearest folder upward holding rules.yaml."""
    named = explicit or os.environ.get("SVCDESK_DESK")
    if named:
        try:
            root = Path(named).expanduser().resolve()
            is_desk = (root / RULES).is_file()
        except (OSError, ValueError) as exc:  # a name too long, a NUL in it
            raise DeskNotFoundError(f"{named} is not a desk ({getattr(exc, 'strerror', None) or exc})") \
                from None
        if not is_desk:
            raise DeskNotFoundError(f"{root} is not a desk (it has no {RULES}); "
                                    "make one with `svcdesk init`")
        return root
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / RULES).is_file():
            return folder
    raise DeskNotFoundError(f"no desk here or above {here} (no {RULES}); make one "
                            "with `svcdesk init DIR`, or name one with --desk")


def git_dir_of(root: Path) -> Path:
    """The git directory of the desk at ``root`` (.git, or where a .git file points)."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():  # a worktree or submodule: .git names the real folder
        text = dot.read_text(encoding="utf-8").strip()
        if text.startswith("gitdir:"):
            target = Path(text[7:].strip())
            return target if target.is_absolute() else (root / target).resolve()
    raise GitError(f"{root} is not a git repository; make it one with `git init` "
                   "or start again with `svcdesk init`")
