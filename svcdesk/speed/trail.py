"""Which commits touched each ticket file: ``.git/svcdesk/trail.sqlite``, a cache of git's
history that can always be deleted.

`svcdesk log ID` is the audit trail from git. ``git log -- FILE`` walks every commit of the
desk to find a file's few: with changed-path Bloom filters that is still ~170 ms at 100,000
commits on a small machine, and it grows with the history. The trail walks each commit once
(``git log --name-only``, from HEAD back to the newest commit it already holds) and keeps a
position for each commit and the ticket paths each one changed. A ticket's commits are then
one query; git only describes those few.

It holds a linear history: HEAD back to the root, each commit with one parent, which is what
a desk worked on one machine, or by a team that pulls with ``--rebase``, has. There
``git log -- FILE`` shows exactly the commits whose change touches the file, newest first,
and so does the trail. At a merge git simplifies the history per file (it follows only a
parent the merge left that file the same as), which the trail does not repeat: a history with
a merge in it is left to git's own walk. A moved HEAD (new commits, a reset, a rebase, a
pull) is found by walking back from it to the newest commit the trail holds; what the trail
held above that commit is replaced. A shallow clone deepened later is seen by .git/shallow.
"""

import hashlib
import os
import sqlite3
from pathlib import Path

from svcdesk.adapters import store

FORMAT = 1  # bump when the tables change: an old file is thrown away
BUSY_MS = 60_000
PROGRESS_FROM = 20_000  # commits to read before a walk from scratch shows a progress bar
_UNDER = "tickets/"

SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE commits(pos INTEGER PRIMARY KEY, sha TEXT NOT NULL UNIQUE);
CREATE TABLE touches(path TEXT, pos INTEGER, PRIMARY KEY (path, pos)) WITHOUT ROWID;
PRAGMA user_version = {FORMAT};
"""


class Trail:
    """The commits of one desk's linear history, and the ticket files each one changed."""

    def __init__(self, git, path: Path, progress=None):
        """The trail kept in ``path`` (adapters.state.State.trail)."""
        self.git = git
        self.path = path
        self._progress = progress  # progress(total, label) -> bar, for a walk from scratch

    def commits(self, relpath: str, head: str | None) -> list | None:
        """The commits that touched ``relpath`` (ticket files only), newest first, as
        ``git log -- relpath`` from ``head`` lists them; None when the history has a merge
        (ask git). ``head`` is HEAD's commit, None on a branch with no commits yet."""
        if head is None:
            return []
        try:
            try:
                return self._commits(relpath, head)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):  # busy, full disk: git answers
                    return None
                store.remove_database(self.path)  # damaged: a cache, so start again
                return self._commits(relpath, head)
        except (OSError, sqlite3.Error):  # a folder it may not write, a second failure
            return None

    def _commits(self, relpath: str, head: str) -> list | None:
        con = self._open()
        try:
            shallow = self._shallow()
            if _meta(con, "head") != head or _meta(con, "shallow") != shallow:
                if not self._catch_up(con, head, shallow):
                    return None
            if _meta(con, "merged") == "1":
                return None
            return [sha for sha, in con.execute(
                "SELECT sha FROM touches JOIN commits USING (pos) WHERE path = ? "
                "ORDER BY pos DESC", (relpath,))]
        finally:
            con.close()

    def discard(self) -> None:
        """Throw the trail away (the next log walks the history again)."""
        store.remove_database(self.path)

    def size(self) -> int | None:
        """How many commits the trail holds; None when it is absent or the history merged."""
        if not self.path.exists():
            return None
        try:
            con = _connect(self.path)
            try:
                if _meta(con, "merged") != "0":
                    return None
                return con.execute("SELECT count(*) FROM commits").fetchone()[0]
            finally:
                con.close()
        except sqlite3.DatabaseError:
            return None

    # ---- catching up with HEAD ---------------------------------------------------------------

    def _catch_up(self, con, head: str, shallow: str) -> bool:
        """Walk back from HEAD to what the trail holds and record the new commits; False when
        another command changed the trail meanwhile or the walk made no sense (ask git).
        ``shallow`` is the digest of .git/shallow now."""
        held, merged = _meta(con, "head"), _meta(con, "merged") == "1"
        from_scratch = _meta(con, "shallow") != shallow
        new, base, merge_seen = [], None, False
        walk = self.git.history(_UNDER)
        bar = None
        if self._progress and (from_scratch or held is None):
            total = self.git.commits_since(None, head)
            if total >= PROGRESS_FROM:
                bar = self._progress(total, "Reading the history for log (once)")
        try:
            for sha, parents, paths in walk:
                if bar is not None and len(new) % 1024 == 1023:
                    bar.update(1024)
                if not from_scratch:
                    if merged and sha == held:
                        merge_seen = True
                        break
                    if not merged:
                        row = con.execute("SELECT pos FROM commits WHERE sha = ?",
                                          (sha,)).fetchone()
                        if row is not None:
                            base = (row[0], sha)
                            break
                if len(parents) > 1:
                    merge_seen = True
                    break
                new.append((sha, parents, paths))
        finally:
            walk.close()
            if bar is not None:
                bar.finish()
        if not merge_seen and not _is_chain(new, head, base[1] if base else None):
            return False
        con.execute("BEGIN IMMEDIATE")
        try:
            if _meta(con, "head") != held:
                con.execute("ROLLBACK")
                return False
            if merge_seen:
                con.execute("DELETE FROM commits")
                con.execute("DELETE FROM touches")
            else:
                floor = base[0] if base else 0
                con.execute("DELETE FROM commits WHERE pos > ?", (floor,))
                con.execute("DELETE FROM touches WHERE pos > ?", (floor,))
                top = floor + len(new)
                con.executemany("INSERT INTO commits VALUES (?, ?)",
                                ((top - i, c[0]) for i, c in enumerate(new)))
                con.executemany("INSERT INTO touches VALUES (?, ?)",
                                ((path, top - i) for i, c in enumerate(new)
                                 for path in dict.fromkeys(c[2])))
            for key, value in (("head", head), ("merged", "1" if merge_seen else "0"),
                               ("shallow", shallow)):
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:  # SQLite rolls back by itself after a full disk
                con.execute("ROLLBACK")
            raise
        return True

    def _shallow(self) -> str:
        """A digest of .git/shallow: a clone deepened or made shallow has another history."""
        try:
            data = (self.git.git_dir / "shallow").read_bytes()
        except FileNotFoundError:
            return ""
        return hashlib.sha1(data).hexdigest()

    def _open(self) -> sqlite3.Connection:
        """The trail's connection; made empty when it is missing or of another format."""
        if self.path.exists():
            con = _connect(self.path)
            if con.execute("PRAGMA user_version").fetchone()[0] == FORMAT:
                return con
            con.close()
            store.remove_database(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        store.remove_database(tmp)
        try:
            made = sqlite3.connect(tmp, isolation_level=None)
            made.executescript(SCHEMA)
            made.execute("PRAGMA journal_mode = WAL")
            made.close()
            try:
                os.link(tmp, self.path)  # never over a trail another command just made
            except FileExistsError:
                pass
        finally:
            store.remove_database(tmp)
        return _connect(self.path)


def _is_chain(new: list, head: str, below: str | None) -> bool:
    """True if ``new`` runs from ``head`` down to ``below`` (None: the root), each commit
    the only parent of the one before."""
    if not new:
        return below == head
    if new[0][0] != head:
        return False
    nexts = [c[0] for c in new[1:]] + [below]
    return all(parents == ((after,) if after else ()) for (_, parents, _), after in
               zip(new, nexts))


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_MS / 1000)
    con.execute("PRAGMA synchronous = NORMAL")
    return con


def _meta(con, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None
