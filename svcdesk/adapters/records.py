"""Records beside tickets on disk (customers/, units/, parts/) and the lookup index that
finds them by phone, email, serial or customer: ``.git/svcdesk/records.sqlite``, a cache.

Where a record lives: ``customers/<last two of its number>/<number>.yaml`` and
``units/<two hex of the serial's digest>/<serial>.yaml`` (so that no folder grows past a few
hundred files at 100,000 units, and every commit rewrites small trees), ``parts/<number>
.yaml`` (a catalogue of hundreds). A serial or part number is its file's name, so a second
unit with one serial cannot exist in one clone.

The index follows the records as committed (like `new`'s choice of agent: a hand edit not
committed is not the team's yet): it keeps the tree id of each folder at HEAD, and when one
moved, ``git diff-tree`` names the files that changed and ``git cat-file --batch`` reads
them. A file that cannot be read is kept in ``problems`` and found by nothing.
"""

import hashlib
import json
import sqlite3
from pathlib import Path

from svcdesk.adapters import store
from svcdesk.adapters.index import healing, roll_back
from svcdesk.base import model
from svcdesk.base.errors import TicketFileError
from svcdesk.base.fields import dump
from svcdesk.domain import records

FORMAT = 3  # bump when the tables or what goes in them change: the index is rebuilt
FOLDERS = tuple(k.folder for k in records.KINDS.values())
_KIND_OF = {k.folder: k.name for k in records.KINDS.values()}
BATCH = 2000  # blobs read per git cat-file
MOST_PATHS = 1000  # changed files named to git ls-tree; past this the folder is read whole
TABLES = ("records", "contacts", "moves", "problems")  # what each file puts rows in

SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE records(path TEXT PRIMARY KEY, kind TEXT, id TEXT, name TEXT, owner TEXT,
                     model TEXT, merged_into TEXT, doc TEXT) WITHOUT ROWID;
CREATE INDEX records_id ON records(kind, id);
CREATE INDEX records_owner ON records(kind, owner, id);
CREATE TABLE contacts(key TEXT, id TEXT, path TEXT);
CREATE INDEX contacts_key ON contacts(key);
CREATE INDEX contacts_path ON contacts(path);
CREATE TABLE moves(path TEXT, part TEXT, action TEXT, at REAL, by TEXT, warehouse TEXT,
                   qty INTEGER, ref TEXT);
CREATE INDEX moves_at ON moves(at);
CREATE INDEX moves_path ON moves(path);
CREATE TABLE problems(path TEXT PRIMARY KEY, message TEXT) WITHOUT ROWID;
PRAGMA user_version = {FORMAT};
"""


def relpath(kind: str, key: str) -> str:
    """Where the record ``key`` of ``kind`` lies in the desk."""
    folder = records.KINDS[kind].folder
    if kind == "customer":
        return f"{folder}/{key[-2:]}/{key}.yaml"
    if kind == "unit":
        fan = hashlib.sha1(key.encode("utf-8")).hexdigest()[:2]
        return f"{folder}/{fan}/{key}.yaml"
    return f"{folder}/{key}.yaml"


def kind_of(path: str) -> str | None:
    """The kind of record a desk path holds (None: not a record file)."""
    head = path.split("/", 1)[0]
    return _KIND_OF.get(head) if path.endswith(".yaml") else None


def decode(schema: model.Schema, raw: bytes, path: str) -> model.Ticket:
    """A record file's bytes typed by its schema and checked as a record of its kind (every
    phone a phone...); TicketFileError naming file, line and field."""
    record = store.ticket_from_bytes(schema, raw, path)
    if record.fields.get("id") != path.rsplit("/", 1)[-1][:-len(".yaml")]:
        raise TicketFileError(path, f"id: {record.fields.get('id')!r} is not the file's name",
                              store.line_of(raw.decode("utf-8"), ("id",)))
    try:
        records.check_record(kind_of(path), model.clone(record.fields), path)
    except records.RecordError as exc:
        name, _, index = exc.field.partition("[")
        where = (name, int(index[:-1])) if index else (name,)
        raise TicketFileError(path, f"{exc.field}: {exc.message}",
                              store.line_of(raw.decode("utf-8"), where)) from None
    return record


class RecordIndex:
    """Lookups of one desk's records (each read brings the index up to HEAD first)."""

    def __init__(self, git, state, schemas: dict):
        self.git, self.schemas = git, schemas
        self.path: Path = state.caches / "records.sqlite"
        self._state = state
        self._con: sqlite3.Connection | None = None
        self._head = None  # the trees last brought up to (None: ask git at the next read)

    # ---- reads ---------------------------------------------------------------------------

    def customer_by_contact(self, keys) -> list:
        """Ids of the customers (merged ones followed to where they went) whose contacts hold
        one of ``keys`` (records.request_keys), for the first key that finds any."""
        con = self.refresh()
        for key in keys:
            rows = con.execute("SELECT id FROM contacts WHERE key = ? ORDER BY id",
                               (key,)).fetchall()
            found = list(dict.fromkeys(self._survivor(con, i) for (i,) in rows))
            if found:
                return found
        return []

    def _survivor(self, con, cid: str, hops: int = 0) -> str:
        row = con.execute("SELECT merged_into FROM records WHERE kind = 'customer' AND id = ?",
                          (cid,)).fetchone()
        if row and row[0] and hops < 16:
            return self._survivor(con, row[0], hops + 1)
        return cid

    def doc(self, kind: str, key: str) -> dict | None:
        """A record's fields as text-only data (None: no such record is committed)."""
        row = self.refresh().execute("SELECT doc FROM records WHERE kind = ? AND id = ?",
                                     (kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    def owned_by(self, kind: str, owner: str) -> list:
        """Records of ``kind`` whose owner (a unit's customer) is ``owner``, by id."""
        return [json.loads(d) for (d,) in self.refresh().execute(
            "SELECT doc FROM records WHERE kind = ? AND owner = ? ORDER BY id", (kind, owner))]

    def listing(self, kind: str, text: str | None = None, limit: int | None = None) -> list:
        """Records of ``kind`` (merged customers left out), those whose fields hold ``text``
        (any case) when given, by id."""
        sql = "SELECT doc FROM records WHERE kind = ? AND merged_into IS NULL"
        params = [kind]
        if text:
            sql += " AND instr(lower(doc), ?)"
            params.append(text.casefold())
        sql += " ORDER BY id" + (f" LIMIT {int(limit)}" if limit else "")
        return [json.loads(d) for (d,) in self.refresh().execute(sql, params)]

    def moves(self, start: float, end: float) -> list:
        """Every stock movement of [start, end) (epoch seconds), oldest first: dicts of
        part, action, at, by, warehouse, qty (+ in, - out), ref."""
        cur = self.refresh().execute("SELECT part, action, at, by, warehouse, qty, ref FROM "
                                     "moves WHERE at >= ? AND at < ? ORDER BY at, part",
                                     (start, end))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]

    def problems(self) -> list:
        """Record files that could not be read: [(path, message)]."""
        return self.refresh().execute("SELECT path, message FROM problems ORDER BY path"
                                      ).fetchall()

    # ---- freshness -------------------------------------------------------------------------

    def recheck(self) -> None:
        """Ask git again at the next read (a commit of this process moved HEAD)."""
        self._head = None

    @healing  # damaged: built again; a full disk or a lock held too long: said as such
    def refresh(self) -> sqlite3.Connection:
        """The index brought up to the records in HEAD's tree."""
        if self._con is not None and self._head is not None:
            return self._con
        return self._refresh()

    def _refresh(self) -> sqlite3.Connection:
        con = self._open()
        trees = self._trees()
        known = dict(con.execute("SELECT key, value FROM meta WHERE key LIKE 'tree:%'"))
        if any(known.get(f"tree:{f}") != trees.get(f) for f in FOLDERS):
            con.execute("BEGIN IMMEDIATE")  # another command may have brought it up meanwhile
            try:
                known = dict(con.execute("SELECT key, value FROM meta WHERE key LIKE 'tree:%'"))
                self._store(con, self._changes(known, trees), trees)
                con.execute("COMMIT")
            except BaseException:
                roll_back(con)
                raise
        self._head = trees
        return con

    def _changes(self, known: dict, trees: dict) -> list:
        """[(folder, paths in it that changed)], None for a folder to read whole."""
        changed = []
        for folder in FOLDERS:
            old, new = known.get(f"tree:{folder}"), trees.get(folder)
            if old == new:
                continue
            paths = self.git.changed_between(old, new) if old and new else None
            # new, gone, the old tree gone (gc), or more than a command line holds: all of it
            changed.append((folder, paths if paths is None or len(paths) <= MOST_PATHS
                            else None))
        return changed

    def _trees(self) -> dict:
        """{folder: tree id} of the record folders at HEAD (one git process)."""
        out = self.git.run("ls-tree", "-z", "HEAD", "--", *FOLDERS, check=False)
        trees = {}
        for record in out.split(b"\0"):
            if record:
                meta, name = record.split(b"\t", 1)
                kind, oid = meta.split()[1:3]
                if kind == b"tree":
                    trees[name.decode()] = oid.decode()
        return trees

    def _store(self, con, changed: list, trees: dict) -> None:
        listed = {}
        for folder, paths in changed:
            if paths is None:
                for table in TABLES:
                    con.execute(f"DELETE FROM {table} WHERE path >= ? AND path < ?",
                                (folder + "/", folder + "0"))
            else:
                for path in paths:
                    self._forget(con, f"{folder}/{path}")
            if folder not in trees or paths == []:
                continue
            args = ("ls-tree", "-z", "-r", trees[folder]) if paths is None else \
                ("ls-tree", "-z", trees[folder], "--", *paths)
            for record in self.git.run(*args).split(b"\0"):
                if record:
                    meta, name = record.split(b"\t", 1)
                    path = f"{folder}/{name.decode('utf-8', 'surrogateescape')}"
                    listed[path] = meta.split()[2].decode()
        wanted = [(p, oid) for p, oid in listed.items() if kind_of(p)]
        for start in range(0, len(wanted), BATCH):
            part = wanted[start:start + BATCH]
            for (path, _), raw in zip(part, self.git.blobs([oid for _, oid in part])):
                self._put(con, path, raw)
        for folder in FOLDERS:
            value = trees.get(folder)
            if value is None:
                con.execute("DELETE FROM meta WHERE key = ?", (f"tree:{folder}",))
            else:
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"tree:{folder}", value))

    @staticmethod
    def _forget(con, path: str) -> None:
        for table in TABLES:
            con.execute(f"DELETE FROM {table} WHERE path = ?", (path,))

    def _put(self, con, path: str, raw: bytes) -> None:
        kind = kind_of(path)
        try:
            record = decode(self.schemas[kind], raw, path)
        except TicketFileError as exc:
            con.execute("INSERT OR REPLACE INTO problems VALUES (?, ?)", (path, str(exc)))
            return
        f = record.fields
        owner = f.get("customer") if kind == "unit" else None
        con.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (path, kind, f["id"], f.get("name"), owner, f.get("model"),
                     f.get("merged_into"), json.dumps(dump(f), ensure_ascii=False,
                                                      separators=(",", ":"))))
        if kind == "customer":
            con.executemany("INSERT INTO contacts VALUES (?, ?, ?)",
                            [(key, f["id"], path) for key in records.contact_keys(f)])
        if kind == "part":
            con.executemany("INSERT INTO moves VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (path, f["id"], e.action, e.at.timestamp(), e.by, name.split(".", 1)[1],
                 int(new or 0) - int(old or 0), e.ref)
                for e in record.events for name, (old, new) in e.changes.items()
                if name.startswith("stock.")])

    def _open(self) -> sqlite3.Connection:
        if self._con is not None:
            return self._con
        self._state.make_caches()
        con = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        if con.execute("PRAGMA user_version").fetchone()[0] != FORMAT or \
                self._digest() != _meta(con, "schemas"):
            con.close()
            store.remove_database(self.path)
            con = sqlite3.connect(self.path, isolation_level=None, timeout=60)
            con.execute("PRAGMA journal_mode = WAL")
            con.executescript(SCHEMA)
            con.execute("INSERT INTO meta VALUES ('schemas', ?)", (self._digest(),))
        self._con = con
        return con

    def _digest(self) -> str:
        """What the rows depend on in rules.yaml: the records' fields (tiers, warehouses)."""
        text = repr(sorted((k, [(n, s.type, sorted(s.choices)) for n, s in v.specs.items()])
                           for k, v in self.schemas.items()))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
        self._con, self._head = None, None


def _meta(con, key: str) -> str | None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None
