"""The trail: which commits touched each ticket file, the same as `git log -- FILE` says."""

import json
import os
import subprocess

import pytest

from conftest import FAULT, git
from svcdesk.adapters import store
from svcdesk.adapters.repo import Git
from svcdesk.speed import trail
from svcdesk.speed.trail import Trail

A, B = "tickets/2026/11/SD-20261122-0001.yaml", "tickets/2026/11/SD-20261122-0002.yaml"


class Counting(Git):
    """A Git that counts the commits the trail reads from its history walk."""

    read = 0

    def history(self, under):
        for record in super().history(under):
            Counting.read += 1
            yield record


def commit(root, message, files=None, remove=()):
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    for rel in remove:
        (root / rel).unlink()
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q",
        "--allow-empty", "-m", message)


def git_log(root, path) -> list:
    return git(root, "log", "--format=%H", "--", path).split()


def trail_file(root):
    """Where the trail of the repository at ``root`` is kept."""
    return root / ".git" / "svcdesk" / "trail.sqlite"


def trail_of(root, path):
    repo = Counting(root)
    head = git(root, "rev-parse", "HEAD").strip()
    return Trail(repo, trail_file(root)).commits(path, head)


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "first", {A: "a: 1\n", B: "b: 1\n"})
    commit(root, "rules only", {"rules.yaml": "desk: {}\n"})
    commit(root, "a again", {A: "a: 2\n"})
    commit(root, "nothing", {})
    commit(root, "b gone", remove=[B])
    commit(root, "b back", {B: "b: 2\n"})
    commit(root, "both", {A: "a: 3\n", B: "b: 3\n"})
    return root


def test_the_trail_lists_what_git_log_lists_on_a_linear_history(repo):
    for path in (A, B, "tickets/2026/11/SD-20261122-0009.yaml"):
        assert trail_of(repo, path) == git_log(repo, path)
    assert len(trail_of(repo, B)) == 4


def test_the_root_commit_counts_whatever_the_users_log_settings_say(repo):
    git(repo, "config", "log.showRoot", "false")
    git(repo, "config", "diff.renames", "copies")
    assert trail_of(repo, A) == git_log(repo, A)
    assert git_log(repo, A)[-1] == git(repo, "rev-list", "--max-parents=0", "HEAD").strip()


def test_new_commits_are_read_back_to_the_newest_one_held_and_no_further(repo):
    trail_of(repo, A)
    commit(repo, "a once more", {A: "a: 4\n"})
    commit(repo, "b once more", {B: "b: 4\n"})
    Counting.read = 0
    assert trail_of(repo, A) == git_log(repo, A)
    assert Counting.read == 3  # the two new commits and the one the trail held
    Counting.read = 0
    assert trail_of(repo, B) == git_log(repo, B)
    assert Counting.read == 0  # HEAD is where the trail stands: no walk at all


def test_a_reset_an_amend_or_a_rebase_replaces_what_lay_above(repo):
    trail_of(repo, A)
    git(repo, "reset", "-q", "--hard", "HEAD~3")
    assert trail_of(repo, A) == git_log(repo, A)
    assert trail_of(repo, B) == git_log(repo, B) and len(git_log(repo, B)) == 1
    commit(repo, "a on the new line", {A: "a: 9\n"})
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--amend",
        "-m", "amended")
    for path in (A, B):
        assert trail_of(repo, path) == git_log(repo, path)


def test_a_history_with_a_merge_is_left_to_git(repo):
    git(repo, "switch", "-q", "-c", "side", "HEAD~2")
    commit(repo, "a on the side", {A: "a: side\n"})
    git(repo, "switch", "-q", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "merge", "-q",
        "--no-ff", "-X", "ours", "-m", "merge", "side")
    assert trail_of(repo, A) is None
    commit(repo, "b after the merge", {B: "b: 5\n"})
    Counting.read = 0
    assert trail_of(repo, B) is None
    assert Counting.read == 2  # back to the merge it saw, not the whole history again
    git(repo, "reset", "-q", "--hard", "HEAD~2")  # the merge undone: linear again
    assert trail_of(repo, A) == git_log(repo, A)


def test_a_damaged_or_older_trail_file_is_made_again(repo):
    trail_of(repo, A)
    path = repo / ".git" / "svcdesk" / "trail.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    assert trail_of(repo, A) == git_log(repo, A)
    store.remove_database(path)
    import sqlite3
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    assert trail_of(repo, B) == git_log(repo, B)


def test_a_shallow_clone_deepened_later_is_read_again(repo, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(clone))
    assert trail_of(clone, B) == git_log(clone, B) and len(git_log(clone, B)) == 2
    git(clone, "fetch", "-q", "--unshallow")
    assert trail_of(clone, B) == git_log(clone, B) and len(git_log(clone, B)) == 4


def test_a_branch_with_no_commits_has_an_empty_trail(tmp_path):
    git(tmp_path, "init", "-q")
    assert Trail(Git(tmp_path), trail_file(tmp_path)).commits(A, None) == []


def test_log_reads_the_trail_instead_of_walking_the_history_for_one_file(desk, run, tmp_path,
                                                                         monkeypatch):
    run(*FAULT)
    run("comment", "1122-1", "-m", "已远程排查")
    run(*FAULT)
    run("comment", "1122-2", "-m", "第二张")
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    entries = json.loads(run("log", "1122-1", "--format", "json").stdout)
    assert [e["commit"] for e in entries] == git_log(desk.root, A)
    assert [e["action"] for e in entries] == ["comment", "create"]
    commands = [line for line in trace.read_text().splitlines() if "git command:" in line]
    assert not [c for c in commands if "git log" in c and A in c], commands


def test_log_after_a_merge_is_still_gits_own(desk, run):
    run(*FAULT)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "switch", "-q", "-c", "side"], cwd=desk.root, check=True, env=env)
    run("comment", "1122-1", "-m", "在分支上")
    subprocess.run(["git", "switch", "-q", "main"], cwd=desk.root, check=True, env=env)
    commit(desk.root, "hand note", {"notes.txt": "x\n"})
    subprocess.run(["git", "merge", "-q", "--no-ff", "-m", "merge", "side"], cwd=desk.root,
                   check=True, env=env)
    entries = json.loads(run("log", "1122-1", "--format", "json").stdout)
    assert [e["commit"] for e in entries] == git_log(desk.root, A)
    assert [e["action"] for e in entries] == ["comment", "create"]


def test_index_status_counts_the_trail_and_rebuild_throws_it_away(desk, run):
    run(*FAULT)
    status = json.loads(run("index", "status", "--format", "json").stdout)
    assert status["trail_commits"] is None  # no log yet
    run("log", "1122-1")
    status = json.loads(run("index", "status", "--format", "json").stdout)
    assert status["trail_commits"] == int(git(desk.root, "rev-list", "--count", "HEAD"))
    assert run("index", "rebuild").exit_code == 0
    assert not (desk.root / ".git" / "svcdesk" / "trail.sqlite").exists()
    assert json.loads(run("log", "1122-1", "--format", "json").stdout)[0]["action"] == "create"


def test_a_walk_from_scratch_shows_progress_and_a_catch_up_does_not(repo, monkeypatch):
    shown = []

    class Bar:
        def __init__(self, total, label):
            shown.append([label, total, 0, False])

        def update(self, count):
            shown[-1][2] += count

        def finish(self):
            shown[-1][3] = True

    monkeypatch.setattr(trail, "PROGRESS_FROM", 1)
    head = git(repo, "rev-parse", "HEAD").strip()
    assert Trail(Git(repo), trail_file(repo), Bar).commits(A, head) == git_log(repo, A)
    assert shown == [["Reading the history for log (once)", 7, 0, True]]
    commit(repo, "a later", {A: "a: 5\n"})
    head = git(repo, "rev-parse", "HEAD").strip()
    assert Trail(Git(repo), trail_file(repo), Bar).commits(A, head) == git_log(repo, A)
    assert len(shown) == 1


def test_a_trail_that_cannot_be_made_or_opened_leaves_log_to_git(repo, tmp_path):
    state = repo / ".git" / "svcdesk"
    state.write_text("a file where the folder should be")  # mkdir fails: OSError
    assert trail_of(repo, A) is None
    state.unlink()
    (state / "trail.sqlite").mkdir(parents=True)  # a folder where the file should be
    assert trail_of(repo, A) is None


def test_logs_and_changes_at_once_each_see_git_logs_answer(desk, run):
    from conftest import svcdesk_process

    run(*FAULT)
    run(*FAULT)
    for i in range(3):
        run("comment", "1122-1", "-m", f"第 {i} 次回访")
    procs = [svcdesk_process("log", "1122-1", "--format", "json", cwd=desk.root)
             for _ in range(4)]
    procs.append(svcdesk_process("comment", "1122-2", "-m", "同时进行", cwd=desk.root))
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    expected = git_log(desk.root, A)
    for out, _ in outs[:4]:
        assert [e["commit"] for e in json.loads(out)] == expected
    assert [e["commit"] for e in json.loads(run("log", "1122-2", "--format", "json").stdout)] \
        == git_log(desk.root, B)
