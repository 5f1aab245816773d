"""Every path under ``.git/svcdesk``: the per-clone state that is never committed.

One place names them all, so what a clone keeps, and what may be deleted, is read here:
the lock and the journal make changes safe; everything else is a cache, rebuilt when gone.
"""

import hashlib
import os
from pathlib import Path

FOLDER = "svcdesk"


class State:
    """The paths of one clone's state folder (``.git/svcdesk``).

    On a desk that cannot be written (a mounted backup, a colleague's folder) the caches go
    to a folder of the user's own instead, ``$XDG_CACHE_HOME/svcdesk/desks/<digest of the
    desk's git folder>``, so that every read works; a change still needs the desk itself."""

    def __init__(self, git_dir: Path):
        self.folder = git_dir / FOLDER
        self.caches = self.folder if _writable(self.folder) else _elsewhere(git_dir)

    def make(self) -> Path:
        """The folder, made if missing."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def make_caches(self) -> Path:
        """The caches' folder, made if missing."""
        self.caches.mkdir(parents=True, exist_ok=True)
        return self.caches

    # ---- what makes a change safe (never delete these by hand while svcdesk runs) -----------

    @property
    def lock(self) -> Path:
        """The desk lock: an flock held by the one command changing the desk."""
        return self.folder / "lock"

    @property
    def merging(self) -> Path:
        """What a sync's merge started from and merges in, while it runs (see
        change.recover_merge)."""
        return self.folder / "merging.json"

    @property
    def journal(self) -> Path:
        """The paths a change is writing: a killed change is finished or undone from it."""
        return self.folder / "journal"

    @property
    def quarantine(self) -> Path:
        """Mail that did not become a ticket or a comment, kept whole with why (.eml and
        .json each): nothing that came in is dropped."""
        return self.folder / "quarantine"

    @property
    def outbox(self) -> Path:
        """Notices waiting to go out (one .json with their state and one .eml each)."""
        return self.folder / "outbox"

    @property
    def outputs(self) -> Path:
        """The files `report --out` wrote, with the digest of what it wrote: a file there
        that svcdesk did not write is not overwritten without --force."""
        return self.caches / "outputs.json"

    # ---- caches: each may be deleted at any time ---------------------------------------------

    @property
    def index(self) -> Path:
        """The ticket index (SQLite)."""
        return self.caches / "index.sqlite"

    @property
    def index_build(self) -> Path:
        """The lock a cold build of the index holds, so two commands build it once."""
        return self.caches / "index.build"

    @property
    def templates(self) -> Path:
        """Jinja's compiled templates."""
        return self.caches / "templates"

    @property
    def commit_graph_mark(self) -> Path:
        """HEAD when git's commit-graph was last written (see admin.log)."""
        return self.caches / "commit-graph-head"

    @property
    def repack_lock(self) -> Path:
        """Held while small packs are rolled up (speed.packs), so one roll-up runs at once."""
        return self.caches / "repack.lock"

    @property
    def trees(self) -> Path:
        """HEAD's entries of the folders the last change read (speed.steps)."""
        return self.caches / "head-trees.json"

    @property
    def steps(self) -> Path:
        """svcdesk's own last commits and the paths each wrote (speed.steps)."""
        return self.caches / "steps.json"

    @property
    def trail(self) -> Path:
        """Which commits touched each ticket file (speed.trail)."""
        return self.caches / "trail.sqlite"

    @property
    def rules_cache(self) -> Path:
        """The compiled rules (speed.rulecache)."""
        return self.caches / "rules.pickle"


def _writable(folder: Path) -> bool:
    """Whether ``folder`` (or, while it does not exist, its parent) can be written."""
    here = folder if folder.exists() else folder.parent
    return os.access(here, os.W_OK)


def _elsewhere(git_dir: Path) -> Path:
    """The user's own cache folder for a desk that cannot hold its caches."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha1(os.fsencode(git_dir.resolve())).hexdigest()[:16]
    return Path(base) / "svcdesk" / "desks" / digest
