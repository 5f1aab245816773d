"""One changing command: under the desk lock, files written atomically and one commit.

A journal in ``.git/svcdesk/journal`` names the paths being written. If the process dies,
the next command finds it and finishes the index update when the commit landed, or puts the
files back as HEAD has them when it did not: a change is all there or not there at all.
"""

import json
import os
from datetime import datetime
from pathlib import Path

from svcdesk.adapters import store
from svcdesk.adapters.store import ATTACHMENTS
from svcdesk.adapters.lock import DeskLock
from svcdesk.adapters.repo import TRAILER_ACTION, TRAILER_TICKET, Git, Identity
from svcdesk.adapters.shortcuts import Shortcuts
from svcdesk.adapters.state import State
from svcdesk.base.errors import (GitError, MergeError, NotSetUpError,
                                  UncommittedChangesError)


class Change:
    """The context of one changing command; use as ``with Change(...) as change:``."""

    def __init__(self, root: Path, git: Git, state: State, shortcuts: Shortcuts, holder: str,
                 timeout: float, quick: bool = False, after_commit=()):
        """``quick``: a change of a ticket or two that commits at once, for which git starts
        reading its index when the lock is taken; that holds git's index lock meanwhile, so
        changes that may take longer (mail, many tickets) are not quick. Each of
        ``after_commit`` (then of AFTER_COMMIT) is called with each commit's id as it lands."""
        self.root, self.git, self.state, self.shortcuts = root, git, state, shortcuts
        self._quick = quick
        self._after = tuple(after_commit)
        self._lock = DeskLock(state.lock, timeout, holder)
        self._files: dict = {}
        self._folders: dict = {}  # {folder: {name: blob id}} at self.head
        self._known: dict | None = None  # the same, as the last change left them
        self.head = self.ref = None
        self._indexing = None

    def __enter__(self):
        self._lock.__enter__()
        try:
            recover_merge(self.root, self.git, self.state)
            self._ready()
            self.git.clear_stale_locks()
            if self._quick and not self.state.journal.exists():
                self._indexing = self.git.index_updater()  # it takes git's index lock
            self.head, self.ref = self.git.head()
            self.git.clear_stale_locks(self.ref, repository=False)
            recover(self.root, self.git, self.state, self.head)
            if self._quick and self._indexing is None:  # after recover() used git's index
                self._indexing = self.git.index_updater()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        indexing, self._indexing = self._indexing, None
        try:
            if indexing is not None:  # nothing was committed: given no paths, it writes nothing
                indexing.result_quietly()
        finally:
            self._lock.__exit__(*exc)
        return False

    def merge(self, commit: str, message: str, author: Identity, when: datetime) -> list:
        """git's merge of ``commit`` into HEAD (see Git.merge), journaled: if the process
        dies during it, the next change puts HEAD, index and files back as they were. []
        when it merged; else the files in conflict, and the merge was undone."""
        start = self.head
        self.state.make()
        store.write_atomic(self.state.merging, json.dumps(
            {"start": start, "theirs": commit}).encode())
        try:
            left = self.git.merge(commit, message, author, when)
        except GitError:  # git refused to begin (local changes in its way): nothing to undo
            self.state.merging.unlink(missing_ok=True)
            raise
        if left:
            _undo_merge(self.root, self.git, start, commit)
        self.state.merging.unlink(missing_ok=True)
        self.head, self.ref = self.git.head()
        self._folders, self._known = {}, None
        return left

    def _ready(self) -> None:
        """Refuse to change a clone in the middle of a git merge (or rebase...), or one that
        has no ticket merge driver (so that a pull could break ticket files)."""
        left = self.git.unfinished()
        if left is not None:
            what, how = left
            raise MergeError(f"{what} is unfinished in this clone; {how}, then run the command "
                             "again (svcdesk changes nothing meanwhile)")
        if not self.git.has_merge_driver():
            raise NotSetUpError("this clone has no ticket merge driver, so a git pull could "
                                "break ticket files: run `svcdesk setup` once in it")

    # ---- reading under the lock ------------------------------------------------------------

    def head_names(self, folder: str) -> dict:
        """{file name: blob id} directly in ``folder`` at HEAD (cached for this change)."""
        if folder not in self._folders:
            known = self._known_trees().get(folder)
            self._folders[folder] = known if known is not None else \
                self.git.tree_entries(self.head, folder)
        return self._folders[folder]

    def _known_trees(self) -> dict:
        """The folders a cache knows as HEAD has them (see Shortcuts.known_trees)."""
        if self._known is None:
            self._known = self.shortcuts.known_trees(self.head)
        return self._known

    def read_committed(self, relpath: str) -> bytes:
        """The bytes of ``relpath``, refusing a file whose content is not what HEAD has."""
        try:
            data = (self.root / relpath).read_bytes()
        except FileNotFoundError:
            data = None
        folder, name = relpath.rsplit("/", 1)
        committed = self.head_names(folder).get(name)
        if data is not None and committed is not None and \
                Git.blob_id(data, len(committed)) == committed:
            return data
        if data is None and committed is None:
            raise UncommittedChangesError(f"{relpath} is neither in git nor in the working "
                                          "tree (moved or renumbered meanwhile)")
        if data is None:
            what = "is deleted in the working tree but not in git"
        elif committed is None:
            what = "is not committed"
        else:
            what = "has changes that are not committed"
        raise UncommittedChangesError(
            f"{relpath} {what}; commit it (git add {relpath} && git commit) or put it back "
            f"(git checkout -- {relpath}), then run the command again")

    # ---- writing ---------------------------------------------------------------------------

    def write(self, relpath: str, data: bytes | None) -> None:
        """Queue ``data`` (None: delete) for ``relpath``; nothing touches disk before commit."""
        self._files[relpath] = data

    def commit(self, subject: str, body: str, trailers: dict, author: Identity,
               when: datetime) -> str | None:
        """Write the queued files and commit exactly them; return the commit id."""
        if not self._files:
            return None
        message = subject.strip() + "\n"
        if body.strip():
            message += "\n" + body.strip() + "\n"
        message += "\n" + "".join(f"{k}: {v}\n" for k, v in trailers.items())
        files, self._files = self._files, {}
        return self.import_commits([(files, message, author, when)])

    def import_commits(self, commits: list) -> str:
        """Commit a history ([(files, message, author, when)...]) in one git process.

        Each commit's files ({relpath: bytes, or None to delete}) are the state after it;
        the working tree gets the last state.
        """
        final: dict = {}
        for files, *_ in commits:
            final.update(files)
        paths = list(final)
        _write_journal(self.state, {"head": self.head, "paths": paths})
        commits = self._through_filters(commits, final)
        folders = set()
        for relpath, data in final.items():
            target = self.root / relpath
            folders.add(target.parent)
            if data is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                store.write_atomic(target, data, sync_dir=False)
        for folder in folders:  # each folder's renames made durable once
            store.fsync_dir(folder)
        # git's index is brought to the new files while fast-import commits them: the two
        # share nothing, and if the commit fails, recover() puts files and index back. A
        # quick change's update-index has been reading git's index since the lock was taken:
        # at 100,000 tickets that alone takes ~20 ms
        indexing, self._indexing = self._indexing, None
        if indexing is not None:
            indexing.send(paths)
        else:
            indexing = self.git.updating_index(paths)
        try:
            sha = self.git.import_commits(self.head, self.ref, commits)
        except BaseException:
            indexing.result_quietly()
            recover(self.root, self.git, self.state, self.head)  # put the files back
            raise
        for tell in self._after + tuple(AFTER_COMMIT):
            tell(sha)
        self._folders = self.shortcuts.committed(self.head, sha, final, self._folders)
        self._known = dict(self._folders)
        self.head = sha
        try:
            indexing.result()
        except GitError:
            # The commit is in; the journal stays so the next command finishes the index.
            return sha
        self.state.journal.unlink(missing_ok=True)
        self.shortcuts.tidy(self.git)
        return sha


    def _through_filters(self, commits: list, final: dict) -> list:
        """``commits`` with each attachment that a filter of .gitattributes applies to (Git
        LFS) stored as git would store it, so that the clone stays clean; the working tree
        still gets the file itself."""
        filtered = self.git.filtered(p for p, data in final.items()
                                     if data is not None and p.startswith(ATTACHMENTS + "/"))
        if not filtered:
            return commits
        blobs = {path: self.git.store_filtered(path, final[path]) for path in filtered}
        return [({p: blobs.get(p, data) if data is not None else None
                  for p, data in files.items()}, *rest) for files, *rest in commits]


# Told of every commit any change of this process makes, with its id (the command server's
# worker tells its client, so that a worker dying later is not taken for a change that
# never happened); a Change is also given listeners of its own (see app.desk.Desk.change)
AFTER_COMMIT: list = []


def trailers_for(number: str | None, action: str) -> dict:
    """The trailers every svcdesk commit carries."""
    out = {}
    if number:
        out[TRAILER_TICKET] = number
    out[TRAILER_ACTION] = action
    return out


def recover(root: Path, git: Git, state: State, head: str | None) -> list:
    """Finish or undo what an interrupted command left; return the paths it dealt with."""
    path = state.journal
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (ValueError, OSError):
        journal = {"paths": []}  # a torn journal: nothing was written after it
    paths = [p for p in journal.get("paths", []) if isinstance(p, str)]
    filtered = git.filtered(p for p in paths if p.startswith(ATTACHMENTS + "/"))
    restore = []
    for relpath in paths:
        target = root / relpath
        for leftover in target.parent.glob(f".{target.name}.*{store.TMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)
        committed = git.blob_at(head, relpath)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            data = None
        landed = (data is None and committed is None) or (
            data is not None and committed is not None
            and _blob_id(git, filtered, relpath, data, len(committed)) == committed)
        if not landed:
            restore.append((relpath, committed))
    for relpath, committed in restore:
        target = root / relpath
        if committed is None:
            target.unlink(missing_ok=True)
        else:
            store.write_atomic(target, git.unfiltered(relpath, committed) if relpath in
                               filtered else git.run("cat-file", "blob", committed))
    if paths:
        git.update_index(paths)
    git.clear_stale_packs()  # a fast-import killed mid-commit leaves its pack half-written
    path.unlink(missing_ok=True)
    return paths


def _blob_id(git: Git, filtered: set, relpath: str, data: bytes, hex_len: int) -> str:
    """The blob git commits for ``data`` at ``relpath`` (through its filter, if it has one)."""
    if relpath in filtered:
        return git.filtered_blob_id(relpath, data)
    return Git.blob_id(data, hex_len)


def recover_merge(root: Path, git: Git, state: State) -> bool:
    """Undo a sync's merge that a killed process left half done (the next sync merges
    again); True when there was one. A merge that completed is left as it is."""
    try:
        journal = json.loads(state.merging.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (ValueError, OSError):
        journal = {}
    start, theirs = journal.get("start"), journal.get("theirs")
    git.wait_idle()  # the killed command's git may still be merging
    head = git.rev("HEAD")
    done = head is not None and head != start and (head == theirs or (
        theirs is not None and git.merge_base(head, theirs) == theirs and
        start is not None and git.merge_base(head, start) == start))
    if not done and start:
        git.clear_stale_locks()
        _undo_merge(root, git, start, theirs)
    elif done and theirs and _read(git.git_dir / "MERGE_HEAD") == theirs:
        # committed, but git died (its output went nowhere) before it tidied up
        for name in ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"):
            (git.git_dir / name).unlink(missing_ok=True)
    state.merging.unlink(missing_ok=True)
    return not done


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _undo_merge(root: Path, git: Git, start: str, theirs: str | None) -> None:
    """HEAD, git's index and the files the merge wrote back at ``start``; a file that holds
    neither ``start``'s nor ``theirs``' version (a person's uncommitted edit) is left as it
    is. git's own abort undoes a merge that stopped on conflicts."""
    if (git.git_dir / "MERGE_HEAD").exists():
        git.run("merge", "--abort", check=False)
        if not (git.git_dir / "MERGE_HEAD").exists():
            return
    if theirs:
        for relpath, before, after in git.changed_blobs(start, theirs):
            target = root / relpath
            try:
                data = target.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                data = None
            if data is None and after is not None:
                continue  # not written by the merge (or deleted by hand since)
            if data is not None and (after is None or Git.blob_id(data, len(after)) != after):
                continue  # not the merge's version: somebody's edit, kept
            if before is None:
                target.unlink(missing_ok=True)  # a file the merge added
            else:
                store.write_atomic(target, git.run("cat-file", "blob", before))
    for name in ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"):
        (git.git_dir / name).unlink(missing_ok=True)
    git.run("reset", "--quiet", start)  # HEAD and git's index; the files are as restored


def _write_journal(state: State, journal: dict) -> None:
    state.make()
    store.write_atomic(state.journal, json.dumps(journal).encode())


def holder_text(command: str, agent: str, since: datetime) -> str:
    """What the lock file says about its holder."""
    return f"svcdesk {command} by {agent} (pid {os.getpid()}, since {since:%H:%M:%S})"
