"""What svcdesk's own commits leave for the next command, so that it need not ask git.

- ``steps.json``: each commit svcdesk made, its parent and the paths it wrote (the last 64).
  The index learns what changed between the tree it indexed and HEAD from them, without
  git's comparison of the trees (~20 ms at 100,000 tickets, whose month trees come out of a
  large pack). Commit ids hash their content, so a recorded step is true or absent.
- ``head-trees.json``: HEAD's entries of the folders the last change read or wrote, keyed by
  its commit: a change that follows svcdesk's own last commit needs no `git ls-tree`.
"""

import json
import os

from svcdesk.adapters import store
from svcdesk.adapters.repo import Git

MOST_FOLDERS = 4
MOST_STEPS = 64  # svcdesk's own commits remembered


def recent(state) -> dict:
    """{commit: (parent, [paths it wrote])} of svcdesk's recent commits in this desk, as each
    recorded them: a commit's tree is its parent's with those paths changed and no other.
    Empty when none are known."""
    try:
        return {c: (p, paths) for c, p, paths in json.loads(state.steps.read_bytes())
                if isinstance(c, str) and isinstance(paths, list)}
    except (OSError, ValueError, TypeError):
        return {}


def stepped(state, since: str | None, head: str | None) -> set | None:
    """The paths svcdesk's own commits wrote from commit ``since`` up to ``head``, as they
    recorded them: a superset of what changed between the two. None when the way back from
    ``head`` does not reach ``since`` through recorded steps (a hand commit, a pull, a
    reset)."""
    if not since or not head:
        return None
    steps = recent(state)
    paths, at = set(), head
    while at != since:
        step = steps.pop(at, None)  # popped: a loop in a damaged file cannot go round
        if step is None:
            return None
        at = step[0]
        paths.update(p for p in step[1] if isinstance(p, str))
    return paths


def known_trees(state, head: str | None) -> dict:
    """The folders the last change recorded, if it left HEAD where it is now."""
    try:
        saved = json.loads(state.trees.read_bytes())
        if saved["commit"] == head and head is not None:
            return {k: dict(v) for k, v in saved["folders"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # none yet, or damaged: ask git
    return {}


def remember(state, parent: str | None, commit: str, written: dict, folders: dict) -> dict:
    """Record what ``commit`` (which wrote ``written`` on top of ``parent``, whose folders
    ``folders`` the change read) leaves for the next command; return the folders as
    ``commit`` has them."""
    folders = _remember_trees(state, parent, commit, written, folders)
    _remember_step(state, parent, commit, list(written))
    return folders


def _remember_trees(state, parent, commit: str, written: dict, read: dict) -> dict:
    folders = {**known_trees(state, parent), **read}
    for relpath, data in written.items():
        folder, _, name = relpath.rpartition("/")
        if folder in folders:
            entries = folders[folder] = dict(folders[folder])
            if data is None:
                entries.pop(name, None)
            else:
                entries[name] = Git.blob_id(data, len(commit))
    recent_first = list(read) + [f for f in folders if f not in read]
    kept = {f: folders[f] for f in recent_first[:MOST_FOLDERS]}
    try:
        store.write_atomic(state.trees, json.dumps({"commit": commit, "folders": kept}).encode(),
                           sync=False, sync_dir=False)
    except OSError:
        pass  # a cache: the next change asks git
    return kept


def _remember_step(state, parent: str | None, commit: str, paths: list) -> None:
    if parent is None:
        return
    steps = [[commit, parent, sorted(paths)]]
    steps += [[c, p, written] for c, (p, written) in recent(state).items()
              if c != commit][:MOST_STEPS - 1]
    try:
        store.write_atomic(state.steps, json.dumps(steps).encode(), sync=False,
                           sync_dir=False)
    except OSError:
        pass  # a cache: the index asks git


def landed(state) -> tuple | None:
    """A mark that moves with every change svcdesk commits in this desk (the file each commit
    rewrites): compare two to tell whether one landed between."""
    try:
        st = os.stat(state.trees)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size
