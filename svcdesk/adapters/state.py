"""Every path under ``.git/svcdesk``: the per-clone state that is never committed.

One place names them all, so what a clone keeps, and what may be deleted, is read here:
the lock and the journal make changes safe; everything else is a cache, rebuilt when gone.
"""

from pathlib import Path

FOLDER = "svcdesk"


class State:
    """The paths of one clone's state folder (``.git/svcdesk``)."""

    def __init__(self, git_dir: Path):
        self.folder = git_dir / FOLDER

    def make(self) -> Path:
        """The folder, made if missing."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    # ---- what makes a change safe (never delete these by hand while svcdesk runs) -----------

    @property
    def lock(self) -> Path:
        """The desk lock: an flock held by the one command changing the desk."""
        return self.folder / "lock"

    @property
    def journal(self) -> Path:
        """The paths a change is writing: a killed change is finished or undone from it."""
        return self.folder / "journal"

    @property
    def outbox(self) -> Path:
        """Notices waiting to go out (one .json with their state and one .eml each)."""
        return self.folder / "outbox"

    @property
    def outputs(self) -> Path:
        """The files `report --out` wrote, with the digest of what it wrote: a file there
        that svcdesk did not write is not overwritten without --force."""
        return self.folder / "outputs.json"

    # ---- caches: each may be deleted at any time ---------------------------------------------

    @property
    def index(self) -> Path:
        """The ticket index (SQLite)."""
        return self.folder / "index.sqlite"

    @property
    def index_build(self) -> Path:
        """The lock a cold build of the index holds, so two commands build it once."""
        return self.folder / "index.build"

    @property
    def templates(self) -> Path:
        """Jinja's compiled templates."""
        return self.folder / "templates"

    @property
    def commit_graph_mark(self) -> Path:
        """HEAD when git's commit-graph was last written (see admin.log)."""
        return self.folder / "commit-graph-head"

    @property
    def repack_lock(self) -> Path:
        """Held while small packs are rolled up (speed.packs), so one roll-up runs at once."""
        return self.folder / "repack.lock"

    @property
    def trees(self) -> Path:
        """HEAD's entries of the folders the last change read (speed.steps)."""
        return self.folder / "head-trees.json"

    @property
    def steps(self) -> Path:
        """svcdesk's own last commits and the paths each wrote (speed.steps)."""
        return self.folder / "steps.json"

    @property
    def trail(self) -> Path:
        """Which commits touched each ticket file (speed.trail)."""
        return self.folder / "trail.sqlite"

    @property
    def rules_cache(self) -> Path:
        """The compiled rules (speed.rulecache)."""
        return self.folder / "rules.pickle"
