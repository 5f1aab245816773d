"""The server's watch on ticket folders: any change moves the token, nothing else does."""

import os
import shutil
import sys

import pytest

from svcdesk.speed import watch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


@pytest.fixture
def desk_dir(tmp_path):
    (tmp_path / "tickets" / "2026" / "11").mkdir(parents=True)
    (tmp_path / "tickets" / "2026" / "11" / "SD-20261122-0001.yaml").write_text("a: 1\n")
    return tmp_path


@pytest.fixture
def watcher():
    w = watch.Watcher.start()
    assert w is not None
    yield w
    w.close()


def token(w, root):
    w.read()
    return w.tokens().get(str(root), (None, None, None))[2]


def test_every_kind_of_change_under_tickets_moves_the_token(desk_dir, watcher):
    assert watcher.watch(str(desk_dir))
    month = desk_dir / "tickets" / "2026" / "11"
    seen = [token(watcher, desk_dir)]
    assert token(watcher, desk_dir) == seen[-1]  # nothing happened: the same token

    def changed():
        now = token(watcher, desk_dir)
        assert now is not None and now not in seen
        seen.append(now)

    (month / "SD-20261122-0001.yaml").write_text("a: 2\n")  # a hand edit
    changed()
    os.utime(month / "SD-20261122-0001.yaml", ns=(1, 1))  # only the time
    changed()
    (month / "SD-20261122-0002.yaml").write_text("b: 1\n")  # a new file
    changed()
    os.rename(month / "SD-20261122-0002.yaml", month / "SD-20261122-0003.yaml")
    changed()
    (month / "SD-20261122-0003.yaml").unlink()
    changed()
    december = desk_dir / "tickets" / "2026" / "12"
    december.mkdir()  # a new month folder (then watched too)
    changed()
    (december / "SD-20261201-0001.yaml").write_text("c: 1\n")
    changed()
    (desk_dir / "tickets" / "2027" / "01").mkdir(parents=True)  # a new year
    changed()
    (desk_dir / "tickets" / "2027" / "01" / "SD-20270101-0001.yaml").write_text("d: 1\n")
    changed()
    (desk_dir / "rules.yaml").write_text("x: 1\n")  # outside tickets/: not watched here
    assert token(watcher, desk_dir) == seen[-1]


def test_a_moved_or_removed_ticket_folder_is_no_longer_trusted(desk_dir, watcher):
    assert watcher.watch(str(desk_dir))
    tokens = watcher.tokens()
    watch.serving(tokens, -1)
    try:
        assert watch.token(desk_dir) == tokens[str(desk_dir)][2]
        os.rename(desk_dir / "tickets", desk_dir / "old")
        (desk_dir / "tickets").mkdir()  # same path, another folder
        assert watch.token(desk_dir) is None  # a worker sees the folder is not the one
        watcher.read()
        assert str(desk_dir) not in watcher.tokens()  # and the server forgets it
        assert watcher.watch(str(desk_dir))  # until asked again
        assert watcher.tokens()[str(desk_dir)][2] != tokens[str(desk_dir)][2]
        shutil.rmtree(desk_dir / "tickets")
        watcher.read()
        assert str(desk_dir) not in watcher.tokens()
    finally:
        watch.serving(None, None)


def test_a_worker_asks_the_server_to_watch_a_desk_it_does_not_know(desk_dir):
    asked, ask = os.pipe()
    watch.serving({}, ask)
    try:
        assert watch.token(desk_dir) is None
        assert os.read(asked, 4096) == os.fsencode(str(desk_dir)) + b"\n"
    finally:
        watch.serving(None, None)
        os.close(asked)
        os.close(ask)


def test_without_a_server_nothing_is_watched(desk_dir):
    assert watch.token(desk_dir) is None


def test_a_worker_learns_which_files_changed_since_a_token_or_that_it_cannot_tell(
        desk_dir, watcher, monkeypatch):
    month = desk_dir / "tickets" / "2026" / "11"
    assert watcher.watch(str(desk_dir))

    def since(then):
        watcher.read()
        watch.serving(watcher.tokens(), -1)
        try:
            return watch.changed_since(desk_dir, then)
        finally:
            watch.serving(None, None)

    start = watcher.tokens()[str(desk_dir)][2]
    assert since(start) == set()
    (month / "SD-20261122-0001.yaml").write_text("a: 2\n")
    (month / "SD-20261122-0002.yaml").write_text("b: 1\n")
    assert since(start) == {"tickets/2026/11/SD-20261122-0001.yaml",
                            "tickets/2026/11/SD-20261122-0002.yaml"}
    middle = watcher.tokens()[str(desk_dir)][2]
    (month / "SD-20261122-0002.yaml").unlink()
    assert since(middle) == {"tickets/2026/11/SD-20261122-0002.yaml"}
    assert since("another-server:1:0") is None and since(None) is None
    (desk_dir / "tickets" / "2026" / "12").mkdir()  # a folder: its files are not named
    assert since(middle) is None
    after = watcher.tokens()[str(desk_dir)][2]
    assert since(after) == set()
    monkeypatch.setattr(watch, "MOST_NAMES", 3)  # more changes than the server keeps
    for n in range(5):
        (month / f"SD-20261122-000{n}.yaml").write_text("c: 1\n")
    assert since(after) is None


def test_a_read_that_only_has_a_token_to_record_never_waits_for_a_writer(desk, run,
                                                                         monkeypatch):
    import sqlite3

    from svcdesk.adapters import index as index_mod
    from svcdesk.app import lookup
    from svcdesk.app.desk import Desk
    from svcdesk.base.query import Filter

    from conftest import FAULT

    assert run(*FAULT).exit_code == 0
    monkeypatch.setattr(index_mod, "BUSY_MS", 2000)  # a wait would fail the test, not hang
    w = watch.Watcher.start()

    def served_titles():
        w.read()
        watch.serving(w.tokens(), -1)
        try:
            return [t["title"] for t in lookup.listing(Desk(desk.root), Filter()).tickets]
        finally:
            watch.serving(None, None)

    try:
        assert w.watch(str(desk.root))
        assert served_titles() == ["电脑无法开机故障报修"]  # checked with git, token recorded
        stray = desk.root / "tickets" / "README.tmp"
        stray.write_text("x")  # the count moves, but no ticket changed
        stray.unlink()
        path = desk.root / ".git" / "svcdesk" / "index.sqlite"
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # another command is writing the index
        try:
            assert served_titles() == ["电脑无法开机故障报修"]
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        recorded = sqlite3.connect(path).execute(
            "SELECT value FROM meta WHERE key = 'watch'").fetchone()[0]
        assert recorded != w.tokens()[str(desk.root)][2]  # left for the next command
        assert served_titles() == ["电脑无法开机故障报修"]
        assert sqlite3.connect(path).execute(
            "SELECT value FROM meta WHERE key = 'watch'").fetchone()[0] == \
            w.tokens()[str(desk.root)][2]
    finally:
        w.close()


def test_a_desk_with_a_linked_folder_under_tickets_is_left_to_git(desk_dir, watcher, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (desk_dir / "tickets" / "2026" / "12").symlink_to(elsewhere)
    assert not watcher.watch(str(desk_dir))  # changes behind the link would go unseen
    assert "symbolic link" in watcher.refused[str(desk_dir)]
    (desk_dir / "tickets" / "2026" / "12").unlink()
    assert watcher.watch(str(desk_dir))
    (desk_dir / "tickets" / "2027").symlink_to(elsewhere)  # one made later: forgotten
    watcher.read()
    assert str(desk_dir) not in watcher.tokens()


def test_only_desks_on_filesystems_this_machine_alone_changes_are_watched(desk_dir, watcher,
                                                                         monkeypatch):
    assert watcher._filesystem(str(desk_dir)) in watch.LOCAL_FILESYSTEMS  # this test's disk
    monkeypatch.setattr(watch, "LOCAL_FILESYSTEMS", {})  # as if it were NFS or SMB
    assert not watcher.watch(str(desk_dir))
    assert "filesystem" in watcher.refused[str(desk_dir)]
