"""The ticket index: ``.git/svcdesk/index.sqlite``, a cache that can always be deleted.

One row per ticket file with what lists, filters, reports and SLA checks need, the figures
computed from its events, and an FTS5 trigram table for search in Chinese and English.

It is never stale. Before each read it compares what it indexed with git: the tree of
``tickets/`` at HEAD (``git diff-tree`` between the tree it indexed and HEAD's names what a
pull, checkout or rebuilt branch changed; after svcdesk's own commits, what they recorded
writing), the files that differ from HEAD in the working tree
(``git diff-index``: hand edits, deletions, staged files) and the folders' mtimes (files git
does not track yet). Only those files are parsed again, in one transaction. A format version
(``PRAGMA user_version``) or field definitions that differ (the part of rules.yaml the rows
depend on), or a damaged file, means a rebuild.
"""

import functools
import hashlib
import json
import os
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.adapters.lock import DeskLock
from svcdesk.adapters.shortcuts import Shortcuts
from svcdesk.adapters.state import State
from svcdesk.base import model
from svcdesk.base.errors import ReadOnlyDeskError, TicketFileError, TicketIndexError
from svcdesk.base.fields import dump
from svcdesk.base.identity import NUMBER_RE, TicketRef
from svcdesk.base.query import Filter
from svcdesk.domain import metrics

FORMAT = 14  # bump when the tables or what goes in them change: old indexes are rebuilt
MAIL_RULE = "mail: "  # the rule of an event a message made: "mail: <its Message-ID>"
IMPORT_RULE = "import: "  # of a ticket a file's row made: "import: <source>: <its key>"
TAKEN_RULES = (MAIL_RULE, IMPORT_RULE)  # what came from outside, kept so as to take it once
PARALLEL_FROM = 400  # files to parse before a second process is worth starting
PROGRESS_FROM = 2000  # files to parse before a progress bar is worth showing
KNOWN_PROBLEM_FROM = 64 * 1024  # bytes: a bad file this large is not parsed again
RACY_NS = 2_000_000_000  # a file or folder changed this recently may change again unseen
BUSY_MS = 60_000  # how long a reader waits for another command's refresh of the index
RANK_MOST = 1000  # hits of a search ranked by bm25: those indexed last (see search_in)
PHRASE_GRAMS = 4  # a search term longer than a trigram is matched by this many of its
# trigrams, then checked whole (see search_in)

# a word index's tokens: the words domain.words found, joined by spaces (a model such as
# lp-404 stays one)
WORD_TOKENS = "unicode61 remove_diacritics 0 tokenchars '-_.'"
WORD_WEIGHTS = (4.0, 1.0, 2.0)  # title, body, meta (product, category, tags) in BM25

COLUMNS = ("path", "mtime_ns", "size", "indexed_ns", "uid", "id", "seq", "title",
           "type", "category", "priority", "status", "channel", "assignee", "team",
           "customer", "company", "tier", "region", "product", "created", "updated",
           "first_response", "resolved", "closed", "reopens", "escalations", "reassignments",
           "paused", "paused_since", "csat", "response_due", "resolution_due", "update_due",
           "sla_done", "timeline", "customer_text", "product_text", "filter_text",
           "customer_id", "serial", "visit_at", "doc")

# A ticket's row is 1.5-2 KB, two to a 4 KB page with the rest unused: 16 KB pages waste
# less. With the indexes made after the rows (INDEXES), 10,000 tickets take 26.9 MB
# against 28.1 MB in 4 KB pages with indexes kept up row by row.
PAGE_SIZE = 16384

SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE tickets(rowid INTEGER PRIMARY KEY AUTOINCREMENT, {", ".join(COLUMNS)});
CREATE TABLE problems(path TEXT PRIMARY KEY, mtime_ns, size, indexed_ns, line, message)
    WITHOUT ROWID;
CREATE TABLE folders(path TEXT PRIMARY KEY, mtime_ns) WITHOUT ROWID;
CREATE TABLE taken(key TEXT PRIMARY KEY, path TEXT) WITHOUT ROWID;
CREATE VIRTUAL TABLE search USING fts5(title, body, extra, tokenize='trigram', detail=none);
CREATE VIRTUAL TABLE search_terms USING fts5vocab(search, 'row');
CREATE VIRTUAL TABLE words USING fts5(title, body, meta, tokenize="{WORD_TOKENS}");
PRAGMA user_version = {FORMAT};
"""

# made once the first build has written every row: an index made from sorted rows is
# packed full and made faster than one kept up row by row
INDEXES = """
CREATE UNIQUE INDEX tickets_path ON tickets(path);
CREATE INDEX tickets_status ON tickets(status, created);
CREATE INDEX tickets_assignee ON tickets(assignee, status);
CREATE INDEX tickets_created ON tickets(created, seq);
CREATE INDEX tickets_team ON tickets(team, created, seq);
CREATE INDEX tickets_resolved ON tickets(resolved);
CREATE INDEX tickets_seq ON tickets(seq);
CREATE INDEX tickets_uid ON tickets(uid);
CREATE INDEX tickets_response_due ON tickets(response_due);
CREATE INDEX tickets_resolution_due ON tickets(resolution_due);
CREATE INDEX tickets_customer_id ON tickets(customer_id);
CREATE INDEX tickets_serial ON tickets(serial);
CREATE INDEX tickets_visit_at ON tickets(visit_at);
CREATE INDEX taken_path ON taken(path);
"""


def _marks(values) -> str:
    """One SQL parameter mark for each of ``values``: ``?, ?, ?``."""
    return ", ".join("?" * len(values))


_INSERT = f"INSERT INTO tickets({', '.join(COLUMNS)}) VALUES ({_marks(COLUMNS)})"
_SORT = {"created": "created", "updated": "updated", "priority": "prank", "status": "status",
         "id": "id", "assignee": "assignee", "type": "type"}


class _Plan(NamedTuple):
    """What a refresh parses again, and the state of the desk it was checked against."""

    work: list  # paths to parse (or drop, when gone)
    tree: str | None  # HEAD's tree of tickets/, "" when there is none (None: not checked)
    still: list  # paths to check again next time (differ from HEAD, or untracked)
    folders: dict  # folder -> mtime_ns when checked
    head: str | None = None  # HEAD's commit when checked


class Hit(NamedTuple):
    """One search result: the ticket's list fields, its rank and the matching text."""

    fields: dict
    score: float
    snippet: str


class Status(NamedTuple):
    """What `svcdesk index status` reports."""

    path: str
    format: int
    tickets: int
    problems: int
    size: int
    tree: str | None
    data: int = 0  # the bytes of the ticket files it describes


def healing(method):
    """Run a read; if the index turns out damaged, build it again and run the read once more."""

    @functools.wraps(method)
    def read(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as exc:  # locked too long, disk full, I/O error
            said = str(exc)
            if "disk is full" in said or "disk I/O error" in said and _full(self.path):
                # SQLite says a write that found no room "disk I/O error" as often as not
                raise ReadOnlyDeskError(f"No space left on device: the index {self.path} "
                                        f"(SQLite: {said})") from None
            raise TicketIndexError(f"the index {self.path}: {said}") from None
        except sqlite3.DatabaseError:  # malformed, not a database: a cache, so start again
            self.close()
            store.remove_database(self.path)
            return method(self, *args, **kwargs)

    return read


def _full(path: Path) -> bool:
    """Whether the disk holding ``path`` has no room left (for a write that failed there)."""
    try:
        disk = os.statvfs(path.parent)
    except OSError:
        return False
    return disk.f_bavail * disk.f_frsize < 64 * 1024


class Index:
    """The index of one desk; every read method refreshes it first."""

    def __init__(self, root: Path, git, state: State, schema: model.Schema,
                 shortcuts: Shortcuts | None = None, progress=None, probe=None,
                 response_actions=metrics.RESPONSE_ACTIONS):
        self.root, self.git, self.schema = root, git, schema
        self.shortcuts = shortcuts or Shortcuts()
        self.response_actions = tuple(response_actions)
        self.path = state.index
        self.state = state
        self._progress = progress
        self._probe = probe
        # whether freshness looks at the working tree (see Probe); a probe given says
        self._worktree = probe is None or probe.worktree
        self._con: sqlite3.Connection | None = None
        self._fresh = False
        self._git_only = False  # see recheck()
        self.changed = 0  # files parsed again by the last refresh
        self.head_seen = None  # HEAD's commit when git was last asked (None: it was not)

    # ---- freshness ----------------------------------------------------------------------

    def as_committed(self) -> None:
        """Let this command's reads see the desk as committed, without git's look at every
        file of the working tree (a lookup of a customer's or a unit's tickets, like `new`'s
        open loads): what differs from HEAD stays recorded for the next full read."""
        if self._probe is None and not self._fresh:
            self._worktree = False

    def prefetch(self) -> None:
        """Start the git half of the freshness check now, to overlap with other start-up."""
        if self._probe is None:
            self._probe = self.git.probe(store.TICKETS, self._worktree)

    def recheck(self) -> None:
        """Forget that the index was brought up to date: the next read asks git again, not the
        server's watch, whose word a worker took when it started (another command's change
        since then is news to it)."""
        if self._probe is not None:
            self._probe.close()
        if self._con is not None:
            self._con.close()
        self._probe, self._con, self._fresh, self._git_only = None, None, False, True
        self.head_seen = None

    def _token(self) -> str | None:
        return None if self._git_only else self.shortcuts.token()

    def refresh(self) -> sqlite3.Connection:
        """Bring the index up to date with the desk's files; return its connection."""
        if self._fresh:
            return self._con
        token = self._token()
        if token is None:
            self.prefetch()
        con = self._open() or self._build()
        plan = self._watched(con, token)
        if plan is False:
            self.prefetch()
            plan = self._plan(con, self._probe)
        self._settle(con, plan, token)
        self._fresh = True
        return con

    @healing
    def settled(self, read):
        """``read(con)``, answered as if after refresh(), but overlapped with git's check.

        The read runs on the index as it stands while git is still looking at the files; the
        plan is then made against the same snapshot (one read transaction), so if git finds
        nothing new the early answer is the fresh one. Otherwise the index catches up and the
        read runs again. At 100,000 tickets git's look at the files takes ~140 ms, about what
        a query and its table take: done side by side, a read costs the longer of the two.
        Under the server, the files changed since the last check are known without git (see
        svcdesk.speed.watch).
        """
        if self._fresh:
            return read(self._con)
        token = self._token()
        if token is None:
            self.prefetch()
        con = self._open()
        if con is None:
            return read(self.refresh())
        con.execute("BEGIN")
        try:
            plan = self._watched(con, token)
            if plan is False:
                self.prefetch()
                early = read(con)
                plan = self._plan(con, self._probe)
            elif plan is None:
                early = read(con)
        finally:
            con.execute("COMMIT")
        self._settle(con, plan, token)
        self._fresh = True
        return early if plan is None else read(con)

    def _watched(self, con, token: str | None) -> "_Plan | None | bool":
        """What the server saw change since the index last caught up: a plan of those files,
        None when none did, False when it cannot tell (git must look)."""
        changed = self.shortcuts.changed_since(_meta(con, "watch")) if token else None
        if changed is None:
            return False
        work = self._stale(con, {p for p in changed if store.is_ticket_path(p)})
        return _Plan(sorted(work), None, [], {}) if work else None

    def _settle(self, con, plan: "_Plan | None", token: str | None) -> None:
        """Carry out a plan (if any), and record the watch token it was made under."""
        if plan is None and (token is None or _meta(con, "watch") == token):
            return
        if plan is None:  # only the token: never wait for another command's write for it
            con.execute("PRAGMA busy_timeout = 0")
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # busy: the next command checks and records
                return
            finally:
                con.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        else:
            con.execute("BEGIN IMMEDIATE")
        try:
            if plan is not None:
                self._carry_out(con, plan)
            if token is not None:
                self._set(con, "watch", token)
            con.execute("COMMIT")
        except BaseException:
            roll_back(con)
            raise

    def rebuild(self) -> int:
        """Throw the index away and build it again from every ticket file; return the count."""
        if self._con is not None:
            self._con.close()
            self._con, self._fresh = None, False
        store.remove_database(self.path)
        return self.refresh().execute("SELECT count(*) FROM tickets").fetchone()[0]

    def close(self) -> None:
        """Close the connection (and wait for git if a probe was started)."""
        if self._probe is not None:
            self._probe.close()
        if self._con is not None:
            self._con.close()
            self._con = None
        self._fresh = False
        self._probe = None

    def _open(self) -> sqlite3.Connection | None:
        """The index, or None when it is missing, damaged, or of another format or schema."""
        if not self.path.exists():
            return None
        try:
            con = _connect(self.path)
            version = con.execute("PRAGMA user_version").fetchone()[0]
            made_for = con.execute("SELECT value FROM meta WHERE key = 'rules'").fetchone()
        except sqlite3.DatabaseError:
            store.remove_database(self.path)
            return None
        if version != FORMAT or made_for is None or made_for[0] != self._schema_digest():
            con.close()
            store.remove_database(self.path)
            return None
        self._con = con
        return con

    def _build(self) -> sqlite3.Connection:
        """Make the index from nothing: into a temporary file, renamed into place when whole.

        An interrupted build leaves no index (the next command starts again), never half of
        one. Two commands that both find none build it once: the second waits, then uses it.
        """
        self.state.make_caches()
        with DeskLock(self.state.index_build, BUSY_MS / 1000, f"pid {os.getpid()}",
                      "the index (being built)"):
            con = self._open()
            if con is not None:
                return con
            for left in self.state.caches.glob(f"{self.path.name}.*.tmp*"):  # of a build killed outright
                left.unlink(missing_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            try:
                con = sqlite3.connect(tmp, isolation_level=None)
                con.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                con.executescript(SCHEMA)
                con.execute("INSERT INTO meta VALUES ('rules', ?)", (self._schema_digest(),))
                con.execute("BEGIN")
                self._store(con, self._parse(list(store.ticket_files(self.root))))
                self._set(con, "tree", "")
                for statement in INDEXES.split(";"):
                    if statement.strip():
                        con.execute(statement)
                con.execute("COMMIT")
                con.execute("PRAGMA journal_mode = WAL")
                con.close()
                os.replace(tmp, self.path)
                store.fsync_dir(self.path.parent)
            finally:
                store.remove_database(tmp)
                store.remove_database(tmp.with_name(tmp.name + "-journal"))
        con = self._open()
        if con is None:
            raise TicketIndexError(f"the index {self.path} could not be opened after building")
        return con

    def _plan(self, con, probe) -> "_Plan | None":
        """What changed since the index was last brought up to date, by git's answer to
        ``probe`` (whose HEAD becomes ``head_seen``); None when nothing did.

        Planned outside the write transaction; if another command applies the same changes
        first, carrying them out again parses the same files to the same rows.

        A probe that did not look at the working tree brings the index up to HEAD only: the
        files known to differ from HEAD stay so, and a file edited by hand since is found by
        the next look, which compares what differs then with what differed.
        """
        tree, dirty, head = probe.result()
        self.head_seen = head
        meta = dict(con.execute("SELECT key, value FROM meta"))
        old_tree = meta.get("tree") or None
        was_dirty = {p for p in json.loads(meta.get("dirty", "[]")) if store.is_ticket_path(p)}
        if not probe.worktree and tree is not None:
            dirty = sorted(was_dirty)
        folders_now = _folders(self.root)
        folders_then = dict(con.execute("SELECT path, mtime_ns FROM folders"))
        moved = [f for f, m in folders_now.items() if folders_then.get(f) != m]
        gone_folders = [f for f in folders_then if f not in folders_now]

        rescan = tree is None or dirty is None or old_tree is None
        suspects, between, found = set(was_dirty), set(), set()
        if not rescan and tree != old_tree:
            between = self.shortcuts.stepped(meta.get("head"), head)
            if between is None:  # not (only) svcdesk's own commits since: git compares
                changed = self.git.changed_between(old_tree, tree)
                if changed is None:  # the old tree is gone (gc after a rebuilt branch)
                    rescan = True
                else:
                    between = {f"{store.TICKETS}/{p}" for p in changed}
        if not rescan:  # git names any file that differs, a README or a .gitkeep too
            between = {p for p in between if store.is_ticket_path(p)}
            dirty = [p for p in dirty if store.is_ticket_path(p)]
            suspects |= between | set(dirty)
            for folder in moved + gone_folders:  # files git does not track, made or removed
                if folder.count("/") != 3 - 1:  # tickets live in month folders only
                    continue
                names = store.ticket_names(self.root / folder)
                on_disk = {f"{folder}/{n}" for n in names}
                known = {r[0] for r in con.execute(
                    "SELECT path FROM tickets WHERE path >= ? AND path < ? UNION "
                    "SELECT path FROM problems WHERE path >= ? AND path < ?",
                    (folder + "/", folder + "0", folder + "/", folder + "0"))}
                found |= on_disk - known
                suspects |= (on_disk - known) | (known - on_disk)
        else:
            suspects.update(store.ticket_files(self.root))
            suspects.update(r[0] for r in con.execute("SELECT path FROM tickets"))
            suspects.update(r[0] for r in con.execute("SELECT path FROM problems"))
        work = self._stale(con, suspects)
        if (not work and tree == old_tree and not moved and not gone_folders
                and set(dirty or ()) <= was_dirty):
            return None
        # files to look at again next time: those that differ from HEAD, and those git does
        # not track (a folder's mtime does not change when a file in it is edited in place)
        still = set()
        if not rescan:
            still = set(dirty) | {p for p in (was_dirty | found) - between
                                  if (self.root / p).exists()}
            if len(still) > 64:  # forget files that are back to what HEAD has
                still = (still - self.git.tracked(sorted(still))) | set(dirty)
        return _Plan(sorted(work), tree or "", sorted(still), folders_now, head)

    def _carry_out(self, con, plan: "_Plan") -> None:
        """Parse the plan's files and record the state they were checked against (none when
        the server named the files, see _watched)."""
        self.changed = len(plan.work)
        self._store(con, self._parse(plan.work), replace=True)
        if plan.tree is None:
            return
        self._set(con, "tree", plan.tree)
        self._set(con, "head", plan.head or "")
        self._set(con, "dirty", json.dumps(plan.still, ensure_ascii=False))
        now_ns = time.time_ns()
        con.execute("DELETE FROM folders")
        con.executemany("INSERT INTO folders VALUES (?, ?)",
                        [(f, m if now_ns - m > RACY_NS else 0)
                         for f, m in plan.folders.items()])

    def _stale(self, con, suspects) -> list:
        """The suspects whose file is not what the index holds (by size and mtime)."""
        where, args = "", ()
        if len(suspects) <= 500:  # beyond that, reading every row is cheaper than binding
            where, args = f" WHERE path IN ({_marks(suspects)})", tuple(suspects)
        known = {}
        for table in ("tickets", "problems"):
            for path, mtime_ns, size, indexed_ns in con.execute(
                    f"SELECT path, mtime_ns, size, indexed_ns FROM {table}{where}", args):
                known[path] = (mtime_ns, size, indexed_ns)
        work = []
        for path in suspects:
            try:
                st = os.stat(self.root / path)
            except (FileNotFoundError, NotADirectoryError):
                if path in known:
                    work.append(path)
                continue
            seen = known.get(path)
            if (seen and seen[0] == st.st_mtime_ns and seen[1] == st.st_size
                    and seen[2] - st.st_mtime_ns > RACY_NS):
                continue
            work.append(path)
        return work

    # ---- parsing and storing -------------------------------------------------------------

    def _parse(self, paths: list):
        """Yield (path, row) for each path: a ticket, a problem, or None when it is gone."""
        total = len(paths)
        bar = self._progress(total) if self._progress and total >= PROGRESS_FROM else None
        try:
            if total >= PARALLEL_FROM and (os.cpu_count() or 1) > 1:
                results = _parallel(self.root, self.schema, paths, self.response_actions)
            else:
                results = (_entry(self.root, self.schema, p, self.response_actions)
                           for p in paths)
            for done, result in enumerate(results, 1):
                yield result
                if bar is not None and done % 256 == 0:
                    bar.update(256)
        finally:
            if bar is not None:
                bar.update(total % 256)
                bar.finish()

    def _store(self, con, results, replace: bool = False) -> None:
        for path, kind, row, text in results:
            if replace:
                old = con.execute("SELECT rowid FROM tickets WHERE path = ?", (path,)).fetchone()
                if old is not None:
                    con.execute("DELETE FROM search WHERE rowid = ?", old)
                    con.execute("DELETE FROM words WHERE rowid = ?", old)
                    con.execute("DELETE FROM tickets WHERE rowid = ?", old)
                con.execute("DELETE FROM problems WHERE path = ?", (path,))
                con.execute("DELETE FROM taken WHERE path = ?", (path,))
            if kind == "ticket":
                rowid = con.execute(_INSERT, row).lastrowid
                con.execute("INSERT INTO search(rowid, title, body, extra) VALUES (?, ?, ?, ?)",
                            (rowid, *text[:3]))
                con.executemany("INSERT OR IGNORE INTO taken VALUES (?, ?)",
                                [(key, path) for key in text[3]])
            elif kind == "problem":
                con.execute("INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?)", row)

    @staticmethod
    def _set(con, key: str, value: str) -> None:
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _schema_digest(self) -> str:
        """What the rows depend on in rules.yaml: how each field is typed (its name, type,
        choices and range, in order), the time zone and the actions that count as a
        response. Other edits (an agent's team, skills or days off, labels, classification,
        SLA policies, notices) leave every row as it was, so they keep the index; on a desk
        of 100,000 tickets a rebuild takes minutes."""
        typed = tuple((s.name, s.type, s.choices if s.type == "enum" else None, s.minimum,
                       s.maximum) for s in self.schema.specs.values())
        text = repr((FORMAT, typed, self.schema.groups, str(self.schema.tz),
                     self.response_actions))
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    # ---- queries -------------------------------------------------------------------------

    def listing(self, flt: Filter, tz, sort: str = "created", reverse: bool = True,
                limit: int | None = None, priorities=(), brief: bool = False) -> list:
        """Plain field dicts of the tickets passing ``flt``, sorted (``brief``: only the
        fields of the list table, see listing_in)."""
        return self.settled(lambda con: self.listing_in(con, flt, tz, sort, reverse, limit,
                                                        priorities, brief))

    @staticmethod
    def listing_in(con, flt: Filter, tz, sort: str = "created", reverse: bool = True,
                   limit: int | None = None, priorities=(), brief: bool = False) -> list:
        """listing(), read from ``con`` as it stands (for settled()). ``brief`` gives only
        the fields of the list table, from their columns: a table of 2,000 open tickets
        then costs no decoding of 2,000 whole tickets."""
        where, params = _where_clause(flt, tz)
        order = _SORT[sort]
        sql = "SELECT " + (", ".join(_BRIEF) if brief else _doc_sql())
        if sort == "priority":
            sql += ", " + _rank_sql(list(priorities)) + " AS prank"
        sql += " FROM tickets" + where
        direction = "DESC" if reverse else "ASC"
        sql += f" ORDER BY {order} IS NULL, {order} {direction}, id {direction}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        if not brief:
            return [json.loads(r[0]) for r in con.execute(sql, params)]
        return [_brief(row) for row in con.execute(sql, params)]

    @staticmethod
    def count_in(con, flt: Filter, tz) -> int:
        """How many tickets pass ``flt``, read from ``con`` as it stands (for settled())."""
        where, params = _where_clause(flt, tz)
        return con.execute("SELECT count(*) FROM tickets" + where, params).fetchone()[0]

    def problems(self) -> list:
        """The ticket files that could not be read, as errors naming file and line."""
        return self.settled(self.problems_in)

    @staticmethod
    def problems_in(con) -> list:
        """problems(), read from ``con`` as it stands (for settled())."""
        return [TicketFileError(path, message, line) for path, line, message in con.execute(
            "SELECT path, line, message FROM problems ORDER BY path")]

    @healing
    def taken_among(self, rules) -> dict:
        """{rule: path} for those of ``rules`` (a message's, a file row's: see TAKEN_RULES)
        that some ticket's event records: what was taken before, and into which ticket."""
        con, rules, out = self.refresh(), list(rules), {}
        for start in range(0, len(rules), 500):
            part = rules[start:start + 500]
            out.update(con.execute("SELECT key, path FROM taken WHERE key IN (%s)"
                                   % ",".join("?" * len(part)), part).fetchall())
        return out

    @healing
    def opened_by(self, email: str, since: datetime) -> int:
        """How many tickets whose customer's address is ``email`` were made since ``since``."""
        folded = email.casefold()
        rows = self.refresh().execute(
            "SELECT customer_text FROM tickets WHERE created >= ? AND instr(customer_text, ?)",
            (since.timestamp(), folded))
        return sum(1 for (text,) in rows if folded in text.split("\x1f"))

    @healing
    def related(self, column: str, value: str) -> list:
        """Paths of the tickets whose ``column`` (customer_id or serial) is ``value``."""
        return [p for (p,) in self.refresh().execute(
            f"SELECT path FROM tickets WHERE {_RELATED[column]} = ? ORDER BY created, seq",
            (value,))]

    @healing
    def related_docs(self, column: str, value: str) -> list:
        """The plain fields of the tickets whose ``column`` (customer_id or serial) is
        ``value``, oldest first."""
        return [json.loads(d) for (d,) in self.refresh().execute(
            f"SELECT {_doc_sql()} FROM tickets WHERE {_RELATED[column]} = ? "
            "ORDER BY created, seq",
            (value,))]

    @healing
    def by_uid(self, uid: str) -> str | None:
        """The path of the ticket with ``uid``, or None."""
        row = self.refresh().execute("SELECT path FROM tickets WHERE uid = ?",
                                     (uid,)).fetchone()
        return row[0] if row else None

    @healing
    def find(self, ref: TicketRef) -> list:
        """Paths of the ticket files (readable or not) whose number ``ref`` names."""
        con = self.refresh()
        rows = con.execute("SELECT path FROM tickets WHERE seq = ? UNION "
                           "SELECT path FROM problems", (ref.seq,))
        return sorted(path for (path,) in rows
                      if ref.matches(path.rsplit("/", 1)[-1][:-len(".yaml")]))

    def known_problem(self, relpath: str) -> None:
        """Raise what was wrong with the file ``relpath`` when the index last read it, while
        it is unchanged since (by size and mtime): a large file known to be unreadable is not
        parsed again to say so. Nothing for a small file (parsing it costs less than asking),
        one the index holds no problem for, or one changed since."""
        try:
            st = os.stat(self.root / relpath)
        except OSError:
            return
        if st.st_size < KNOWN_PROBLEM_FROM or not self.path.exists():
            return
        try:
            con = self._con or _connect(self.path)
            try:
                row = con.execute("SELECT mtime_ns, size, indexed_ns, line, message FROM "
                                  "problems WHERE path = ?", (relpath,)).fetchone()
            finally:
                if con is not self._con:
                    con.close()
        except sqlite3.DatabaseError:  # missing, damaged or of another format: read the file
            return
        if (row and row[0] == st.st_mtime_ns and row[1] == st.st_size
                and row[2] - st.st_mtime_ns > RACY_NS):
            raise TicketFileError(relpath, row[4], row[3])

    @staticmethod
    def search_in(con, terms: list, flt: Filter, tz, limit: int = 20) -> list:
        """Tickets holding every term (in title, text and comments, or customer/product), best
        first, each with the text around the first match; read from ``con`` as it stands
        (pass it to settled())."""
        matches, scans = [], []
        for term in terms:
            if len(term) > 3:
                # The trigram index keeps which tickets hold a trigram, not where
                # (detail=none: a fifth of its size with positions), so it has no phrases:
                # a term is found by a few of its distinct trigrams, each a plain lookup,
                # and the text is then checked for the whole term. (Walking positions was
                # no better: on repetitive text, a log of AAAA…, a phrase's cost grew with
                # its length times the positions.)
                grams = list(dict.fromkeys(term[i:i + 3].lower()
                                           for i in range(len(term) - 2)))
                step = max(1, len(grams) // PHRASE_GRAMS)
                matches.append(" AND ".join(map(_phrase, grams[::step][:PHRASE_GRAMS])))
                scans.append(term)
            elif len(term) == 3:
                matches.append(_phrase(term))
            elif (starting := _trigrams_starting(con, term)) is None:
                scans.append(term)  # one character, or too common a pair: scan the text
            elif not starting:
                return []  # in no text at all
            else:
                matches.append("(" + " OR ".join(map(_phrase, starting)) + ")")
        conds, args = _where(flt, tz, "t.")
        for term in scans:  # in C where SQLite's own test means the same: most terms
            if term.lower() == term.upper():  # no letter with a case (卡, 2026)
                test, value = "instr({}, ?)", term
            elif term.isascii():  # LIKE folds ASCII letters
                test, value = "{} LIKE ? ESCAPE '\\'", "%" + _like_escaped(term) + "%"
            else:  # É, Ä, Ж...: folded as the trigram index folds them
                conds.append("holds(s.title, s.body, s.extra, ?)")
                args.append(term.lower())
                continue
            conds.append(" OR ".join(test.format(c) for c in ("s.title", "s.body", "s.extra")))
            args += [value] * 3
        found = "search s JOIN tickets t ON t.rowid = s.rowid"
        sql = f"SELECT {_doc_sql('t.')}, s.title, s.body, s.extra, {{score}} FROM {found}"
        if matches:
            conds.insert(0, "search MATCH ?")
            args.insert(0, " AND ".join(matches))
            # bm25 reads each hit's text again (the index keeps no positions): a common word
            # (打印机, in 13,000 of 100,000 tickets: +100 ms) is ranked among its RANK_MOST
            # hits indexed last, the tickets made or changed most recently (a row takes a
            # new rowid when its file changes), found newest first through the FTS
            # table's own rowid order and kept by a rowid range it can use
            where = " AND ".join(f"({c})" for c in conds)
            ranked = max(RANK_MOST, int(limit))
            conds.append(f"s.rowid >= (SELECT min(rowid) FROM (SELECT s.rowid FROM {found} "
                         f"WHERE {where} ORDER BY s.rowid DESC LIMIT {ranked}))")
            args += args
            score = "bm25(search, 5.0, 1.0, 2.0)"
            order = "ORDER BY 5, t.updated DESC"
        else:
            score = "0.0"
            order = "ORDER BY t.updated DESC"
        sql = sql.format(score=score)
        if conds:
            sql += " WHERE " + " AND ".join(f"({c})" for c in conds)
        sql += f" {order} LIMIT {int(limit)}"
        hits = []
        for doc, title, body, extra, score in con.execute(sql, args):
            hits.append(Hit(json.loads(doc), -float(score),
                            _snippet(terms, (body, title, extra))))
        return hits

    # ---- words: similar past tickets ------------------------------------------------------

    @healing
    def similar(self, segment, query: dict, statuses, limit: int = 10,
                vocabulary: str = "") -> list:
        """The tickets in ``statuses`` whose words are closest to ``query`` ({title, body,
        meta: [word, ...]}), best first: [(fields, created, resolved, score)], by BM25 over
        each ticket's words (title counted most). ``segment(text)`` gives a text's words;
        ``vocabulary`` names how it cuts them (the words kept are cut again when it changes).

        The words of a ticket once resolved are kept beside its row (the ``words`` table),
        put there here on first need rather than when the index is refreshed: segmenting
        costs a command ~0.1 s to load the dictionary, which `new` and `show` never pay.
        Rows are numbered in the order they were stored and never reuse a number, so the
        rows stored since the last catch-up are the ones numbered above its mark."""
        con = self.refresh()
        self._catch_up_words(con, segment, vocabulary)
        terms = _word_terms(query)
        if not terms:
            return []
        statuses = tuple(statuses)
        rows = con.execute(
            f"SELECT {_doc_sql('t.')}, t.created, t.resolved, bm25(words, {_weights()}) AS score "
            "FROM words JOIN tickets t ON t.rowid = words.rowid "
            f"WHERE words MATCH ? AND t.status IN ({_marks(statuses)}) "
            "ORDER BY score LIMIT ?", (" OR ".join(terms), *statuses, int(limit)))
        return [(json.loads(doc), created, resolved, -float(score))
                for doc, created, resolved, score in rows]

    def _catch_up_words(self, con, segment, vocabulary: str) -> None:
        """Segment the resolved tickets stored since the last catch-up (see similar)."""
        mark = int(_meta(con, "words_mark") or 0)
        top = con.execute("SELECT max(rowid) FROM tickets").fetchone()[0] or 0
        if top <= mark and _meta(con, "words_vocabulary") == vocabulary:
            return
        con.execute("BEGIN IMMEDIATE")
        try:
            if _meta(con, "words_vocabulary") != vocabulary:  # cut otherwise now: again
                con.execute("DELETE FROM words")
                self._set(con, "words_mark", "0")
                self._set(con, "words_vocabulary", vocabulary)
            mark = int(_meta(con, "words_mark") or 0)  # another command may have done it
            for rowid, doc in con.execute(
                    f"SELECT rowid, {_doc_sql()} FROM tickets WHERE rowid > ? "
                    "AND resolved IS NOT NULL",
                    (mark,)).fetchall():
                f = json.loads(doc)
                product = f.get("product") or {}
                meta = " ".join(str(v) for v in (product.get("model"), f.get("category"),
                                                 *(f.get("tags") or ())) if v)
                con.execute("INSERT INTO words(rowid, title, body, meta) VALUES (?, ?, ?, ?)",
                            (rowid, " ".join(segment(f.get("title") or "")),
                             " ".join(segment(f.get("description") or "")),
                             " ".join(segment(meta))))
            self._set(con, "words_mark", str(top))
            con.execute("COMMIT")
        except BaseException:
            roll_back(con)
            raise

    @healing
    def open_load(self, open_statuses, agents) -> dict:
        """{agent: number of open tickets assigned to them}, for each of ``agents`` who has
        any (asked of the (assignee, status) index alone: no ticket row is read)."""
        con = self.refresh()
        agents, open_statuses = tuple(agents), tuple(open_statuses)
        return dict(con.execute(
            f"SELECT assignee, count(*) FROM tickets WHERE assignee IN ({_marks(agents)}) "
            f"AND status IN ({_marks(open_statuses)}) GROUP BY assignee",
            agents + open_statuses))

    @healing
    def last_assignee(self, team: str | None) -> str | None:
        """The agent who got the team's (or, with None, the desk's) latest ticket."""
        con = self.refresh()
        among, args = ("team = ?", (team,)) if team is not None else ("1", ())
        row = con.execute(  # newest first through an index, not a sort of every ticket
            f"SELECT assignee FROM tickets WHERE {among} AND assignee IS NOT NULL "
            "ORDER BY created DESC, seq DESC LIMIT 1", args).fetchone()
        return row[0] if row else None

    @healing
    def between(self, column: str, start: datetime, end: datetime) -> list:
        """Figures and list fields of tickets whose ``column`` (created, resolved, closed,
        first_response) falls in [start, end)."""
        if column not in ("created", "resolved", "closed", "first_response", "updated"):
            raise ValueError(f"not a time column: {column}")
        con = self.refresh()
        cur = con.execute(f"SELECT *, {_doc_sql()} AS doc FROM tickets "  # the last doc wins
                          f"WHERE {column} >= ? AND {column} < ? "
                          f"ORDER BY {column}", (start.timestamp(), end.timestamp()))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]

    @healing
    def visits_between(self, start: datetime, end: datetime) -> list:
        """The fields (``doc``) of tickets whose visit is booked for [start, end)."""
        con = self.refresh()
        cur = con.execute(f"SELECT {_doc_sql()} FROM tickets WHERE visit_at >= ? AND visit_at < ? "
                          "ORDER BY visit_at, seq", (start.timestamp(), end.timestamp()))
        return [json.loads(row[0]) for row in cur]

    @healing
    def service_rows(self, statuses) -> list:
        """Tickets in ``statuses`` with what `sla check` decides on: their fields (``doc``),
        first response, resolution, pause and the time-rule steps already taken."""
        con = self.refresh()
        cur = con.execute(f"SELECT path, id, status, first_response, resolved, paused_since, "
                          f"sla_done, {_doc_sql()} AS doc FROM tickets "
                          f"WHERE status IN ({_marks(statuses)}) "
                          "ORDER BY seq",
                          tuple(statuses))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]

    @healing
    def report_rows(self, start: datetime, end: datetime) -> list:
        """Every ticket a report of [start, end) may count: made before ``end`` and not
        closed for good before ``start`` (its figures, fields and brief history)."""
        con = self.refresh()
        cur = con.execute(
            "SELECT id, created, first_response, reopens, escalations, reassignments, "
            f"timeline, {_doc_sql()} AS doc FROM tickets WHERE created < ? "
            "AND (closed IS NULL OR closed >= ? "
            "OR reopens > 0) ORDER BY created, seq", (end.timestamp(), start.timestamp()))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]

    @healing
    def status(self) -> Status:
        """Where the index is, how big, and what it holds (brought up to date first)."""
        con = self.refresh()
        meta = dict(con.execute("SELECT key, value FROM meta"))
        tickets, data = con.execute("SELECT count(*), total(size) FROM tickets").fetchone()
        problems = con.execute("SELECT count(*) FROM problems").fetchone()[0]
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*")
                   if not p.name.endswith(".tmp"))
        return Status(str(self.path), FORMAT, tickets, problems, size,
                      meta.get("tree") or None, int(data))


# ---- one ticket file to one row ---------------------------------------------------------------

def _entry(root: Path, schema: model.Schema, relpath: str,
           response_actions=metrics.RESPONSE_ACTIONS) -> tuple:
    """(path, kind, row, search text): kind is ticket, problem, or gone."""
    path = root / relpath
    try:
        st = os.stat(path)
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return relpath, "gone", None, None
    indexed_ns = time.time_ns()
    try:
        ticket = store.ticket_from_bytes(schema, raw, relpath)
    except TicketFileError as exc:
        return relpath, "problem", (relpath, st.st_mtime_ns, st.st_size, indexed_ns, exc.line,
                                    exc.message), None
    f = ticket.fields
    figures = metrics.ticket_figures(ticket.events, response_actions=response_actions)
    service = f.get("sla") or {}
    customer, product = f.get("customer") or {}, f.get("product") or {}
    number = f.get("id") or relpath.rsplit("/", 1)[-1][:-5]
    parsed = NUMBER_RE.match(number)
    notes = [e.note for e in ticket.events if e.note]
    body = "\n".join(x for x in (f.get("description"), f.get("resolution"), *notes) if x)
    extra = " ".join(str(v) for v in (
        number, f.get("category"), *(f.get("tags") or ()), customer.get("name"),
        customer.get("company"), customer.get("phone"), product.get("model"),
        product.get("serial"), product.get("order_no")) if v)
    row = (relpath, st.st_mtime_ns, st.st_size, indexed_ns, f.get("uid"), number,
           int(parsed["seq"]) if parsed else None,
           f.get("title"), f.get("type"), f.get("category"), f.get("priority"), f.get("status"),
           f.get("channel"), f.get("assignee"), f.get("team"), customer.get("name"),
           customer.get("company"), customer.get("tier"), customer.get("region"),
           product.get("model"), _ts(f.get("created")), _ts(f.get("updated")),
           _ts(figures["first_response_at"]), _ts(figures["resolved_at"]),
           _ts(figures["closed_at"]), figures["reopens"], figures["escalations"],
           figures["reassignments"], figures["paused_seconds"], _ts(figures["paused_since"]),
           f.get("csat"), _ts(service.get("response_due")),
           _ts(service.get("resolution_due")), _ts(service.get("update_due")),
           "\x1f".join(figures["done"]), _timeline(ticket.events), _folded(customer.values()), _folded(product.values()),
           _folded((f.get("title"), f.get("description"), number, f.get("category"))),
           customer.get("id"), _serial(product.get("serial")),
           _ts((f.get("visit") or {}).get("at")),
           _doc(f))
    # the trailing space makes a column's last two characters begin a trigram as well
    taken = tuple(e.rule for e in ticket.events if e.rule and e.rule.startswith(TAKEN_RULES))
    return relpath, "ticket", row, (f"{f.get('title') or ''} ", f"{body} ", f"{extra} ",
                                    taken)


# The fields ``doc`` leaves to their own columns: each is kept in its place as a 0 and put
# back by _doc_sql (json_replace keeps the order of the keys). 200 bytes a ticket, 8 % of
# the index.
_SHARED = ("uid", "title", "type", "category", "priority", "status", "channel", "assignee",
           "team")


def _doc(fields: dict) -> str:
    """The ``doc`` column: every field as JSON, those of _SHARED as placeholders."""
    plain = dump(fields)
    for key in _SHARED:
        if key in plain:
            plain[key] = 0
    return json.dumps(plain, ensure_ascii=False, separators=(",", ":"))


def _doc_sql(table: str = "") -> str:
    """The SQL of a ticket's whole ``doc``, its _SHARED fields put back from their columns."""
    return (f"json_replace({table}doc, "
            + ", ".join(f"'$.{key}', {table}{key}" for key in _SHARED) + ")")


def _serial(text: str | None) -> str | None:
    """A serial as units are filed by (capitals, see domain.records.check_key)."""
    return text.strip().upper() if text else None


def roll_back(con) -> None:
    """Roll back the transaction, if SQLite has not already (it has, after a full disk: a
    second ROLLBACK would hide the real error behind 'no transaction is active')."""
    if con.in_transaction:
        con.execute("ROLLBACK")


def _timeline(events) -> str:
    """The history in brief as JSON, each step without its trailing nulls (most of a step:
    two fifths of the column's size; Story.from_row puts them back)."""
    steps = metrics.brief(events)
    for step in steps:
        while step[-1] is None:
            step.pop()
    return json.dumps(steps, ensure_ascii=False, separators=(",", ":"))


def _ts(value) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def _folded(values) -> str:
    return "\x1f".join(v.casefold() for v in values if isinstance(v, str))


_WORKER: dict = {}


def _worker_init(root, schema, response_actions) -> None:
    import signal

    # Ctrl-C reaches the whole process group: the parent alone answers it (and ends the
    # pool); a worker that took it too would print its own traceback ("Process
    # ForkPoolWorker-1:") and could leave the parent waiting for a result that never comes.
    # It was forked with SIGINT blocked (see _parallel): ignored from here on
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _WORKER.update(root=root, schema=schema, actions=response_actions)


def _worker_entry(relpath: str) -> tuple:
    return _entry(_WORKER["root"], _WORKER["schema"], relpath, _WORKER["actions"])


def _parallel(root: Path, schema, paths: list, response_actions):
    """Parse ``paths`` in worker processes (one per core), yielding results in order."""
    import multiprocessing
    import signal

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    workers = min(os.cpu_count() or 1, 8)
    # the workers are forked with SIGINT blocked, so none can take a Ctrl-C before its
    # initializer ignores it; the parent's own Ctrl-C waits the few ms until they are made
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool = ctx.Pool(workers, _worker_init, (root, schema, response_actions))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    with pool:
        for start in range(0, len(paths), 4096):  # bounded: results wait for the writer
            yield from pool.imap(_worker_entry, paths[start:start + 4096], chunksize=64)


# ---- helpers ----------------------------------------------------------------------------------

_RELATED = {"customer_id": "customer_id", "serial": "serial"}  # the columns related() reads
_BRIEF = ("id", "status", "priority", "type", "title", "assignee", "created", "customer",
          "company")


def _brief(row) -> dict:
    """A ticket's list-table fields, shaped as in its full dict (unset ones left out)."""
    fields = {k: v for k, v in zip(_BRIEF[:6], row) if v is not None}
    if row[6] is not None:
        fields["created"] = datetime.fromtimestamp(row[6], timezone.utc)
    customer = {k: v for k, v in (("name", row[7]), ("company", row[8])) if v is not None}
    if customer:
        fields["customer"] = customer
    return fields


def _meta(con, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_MS / 1000)
    con.execute("PRAGMA synchronous = NORMAL")
    con.create_function("holds", 4, _holds, deterministic=True)
    return con


def _holds(title, body, extra, term: str) -> bool:
    """Whether a ticket's search text holds ``term`` (lower case), in any case, as the
    trigram index folds it (SQLite's LIKE folds only ASCII)."""
    return any(term in text.lower() for text in (title, body, extra) if text)


def _folders(root: Path) -> dict:
    """{relative folder: mtime_ns} of tickets/ and its year and month folders."""
    out = {}
    base = root / store.TICKETS
    try:
        out[store.TICKETS] = os.stat(base).st_mtime_ns
    except FileNotFoundError:
        return out
    for year in os.scandir(base):
        if year.is_dir() and len(year.name) == 4 and year.name.isdigit():
            out[f"{store.TICKETS}/{year.name}"] = year.stat().st_mtime_ns
            for month in os.scandir(year.path):
                if month.is_dir() and len(month.name) == 2 and month.name.isdigit():
                    out[f"{store.TICKETS}/{year.name}/{month.name}"] = \
                        month.stat().st_mtime_ns
    return out


def _where_clause(flt: Filter, tz) -> tuple:
    """`` WHERE ...`` for the filters of `list` (empty when none), and its parameters."""
    conds, params = _where(flt, tz)
    return (" WHERE " + " AND ".join(f"({c})" for c in conds) if conds else ""), params


def _where(flt: Filter, tz, table: str = "") -> tuple:
    """SQL conditions and their parameters for the filters of `list` and `search`."""
    conds, params = [], []

    def among(column, values):
        if values:
            conds.append(f"{table}{column} IN ({_marks(values)})")
            params.extend(values)

    among("status", flt.statuses)
    among("type", flt.types)
    among("priority", flt.priorities)
    among("team", flt.teams)
    if flt.assignees:
        unassigned = "" in flt.assignees
        named = [a for a in flt.assignees if a]
        parts = []
        if named:
            parts.append(f"{table}assignee IN ({_marks(named)})")
            params.extend(named)
        if unassigned:
            parts.append(f"{table}assignee IS NULL")
        conds.append(" OR ".join(parts))
    if flt.since:
        conds.append(f"{table}created >= ?")
        params.append(datetime.combine(flt.since, dtime(), tz).timestamp())
    if flt.until:
        conds.append(f"{table}created < ?")
        params.append(datetime.combine(flt.until + timedelta(days=1), dtime(), tz).timestamp())
    for column, text in (("customer_text", flt.customer), ("product_text", flt.product),
                         ("filter_text", flt.text)):
        if text:
            conds.append(f"instr({table}{column}, ?) > 0")
            params.append(text.casefold())
    return conds, params


def _rank_sql(priorities: list) -> str:
    cases = " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(priorities)
                     if "'" not in p)
    return f"CASE priority {cases} ELSE {len(priorities)} END"


def _word_terms(query: dict) -> list:
    """The FTS5 phrases of a word query ({title, body, meta: [word, ...]}), each word once."""
    return [_phrase(w) for w in dict.fromkeys(
        w for column in ("title", "body", "meta") for w in query.get(column) or ())]


def _weights() -> str:
    return ", ".join(map(str, WORD_WEIGHTS))


def rank_words(documents: list, query: dict, limit: int = 10) -> list:
    """[(key, score)] of ``documents`` ([(key, {title, body, meta: [word, ...]})]) closest
    to ``query``, best first, scored as similar() scores tickets (a small set, such as the
    knowledge base's articles, ranked in memory)."""
    terms = _word_terms(query)
    if not terms or not documents:
        return []
    con = sqlite3.connect(":memory:")
    try:
        con.execute(f'CREATE VIRTUAL TABLE words USING fts5(title, body, meta, '
                    f'tokenize="{WORD_TOKENS}")')
        con.executemany("INSERT INTO words(rowid, title, body, meta) VALUES (?, ?, ?, ?)",
                        [(i, *(" ".join(doc.get(c) or ()) for c in ("title", "body", "meta")))
                         for i, (_, doc) in enumerate(documents)])
        rows = con.execute(f"SELECT rowid, bm25(words, {_weights()}) AS score FROM words "
                           "WHERE words MATCH ? ORDER BY score LIMIT ?",
                           (" OR ".join(terms), int(limit))).fetchall()
    finally:
        con.close()
    return [(documents[rowid][0], -float(score)) for rowid, score in rows]


def _like_escaped(text: str) -> str:
    """``text`` for a LIKE pattern with ESCAPE '\\': its own % and _ taken as they are."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _trigrams_starting(con, term: str, most: int = 256) -> list | None:
    """The indexed trigrams that begin with a two-character ``term`` (folded as the trigram
    tokenizer folds), or None when the term is not two characters or begins too many.

    Every pair of characters in the indexed text begins a trigram, because each column ends
    with a space (see _entry), so a pair is found through the index, not by a scan.
    """
    folded = term.lower()
    if len(folded) != 2:
        return None
    found = [row[0] for row in con.execute(
        "SELECT term FROM search_terms WHERE term >= ? AND term <= ? LIMIT ?",
        (folded, folded + "\U0010ffff", most + 1))]
    return None if len(found) > most else found


def _snippet(terms: list, texts, width: int = 36) -> str:
    """The text around the first place any term occurs, on one line."""
    folded_terms = [t.casefold() for t in terms]
    for text in texts:
        if not text:
            continue
        folded = text.casefold()
        hits = [(folded.find(t), t) for t in folded_terms if folded.find(t) >= 0]
        if not hits:
            continue
        at, term = min(hits)
        start = max(0, at - width // 2)
        end = min(len(text), at + len(term) + width)
        piece = " ".join(text[start:end].split())
        return ("…" if start else "") + piece + ("…" if end < len(text) else "")
    return ""
