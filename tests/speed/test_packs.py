"""The roll-up of small packs (speed.packs): each change is one small pack, and past a few
they are rolled into one, by default in the background."""

import fcntl
import time

from conftest import FAULT, git
from svcdesk.speed import packs


def object_counts(root) -> tuple:
    """(loose objects, packs) of the desk's repository."""
    counts = dict(line.split(": ") for line in git(root, "count-objects", "-v").splitlines())
    return int(counts["count"]), int(counts["packs"])


def test_each_change_is_one_small_pack_and_past_a_few_they_are_rolled_into_one(desk, run,
                                                                              monkeypatch):
    monkeypatch.setattr(packs, "SMALL_PACKS", 3)
    git(desk.root, "repack", "-a", "-d")  # the desk as one big pack
    big = {p.name for p in (desk.root / ".git/objects/pack").glob("*.pack")}
    assert object_counts(desk.root) == (0, 1)
    assert run(*FAULT).exit_code == 0
    # one pack, not exploded into loose objects by a second process (git update-index,
    # running beside fast-import, writes the ticket's blob loose as well)
    assert object_counts(desk.root) == (1, 2)
    assert run("comment", "20261122-1", "-m", "已电话回访").exit_code == 0
    assert object_counts(desk.root)[1] == 3
    assert run("comment", "20261122-1", "-m", "客户确认已修好").exit_code == 0  # a fourth
    names = {p.name for p in (desk.root / ".git/objects/pack").glob("*.pack")}
    assert len(names) == 2 and big <= names  # the three small ones rolled into one, the big
    assert "客户确认已修好" in run("show", "20261122-1").stdout  # one left as it was
    git(desk.root, "fsck", "--no-progress")


def test_small_packs_are_rolled_up_in_the_background_one_roll_up_at_a_time(desk, run,
                                                                           monkeypatch):
    monkeypatch.setattr(packs, "SMALL_PACKS", 3)
    git(desk.root, "config", "gc.autoDetach", "true")  # git's default
    git(desk.root, "repack", "-a", "-d")
    big = {p.name for p in (desk.root / ".git/objects/pack").glob("*.pack")}
    lock = desk.state.repack_lock
    lock.parent.mkdir(exist_ok=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as if a roll-up were running
        assert run(*FAULT).exit_code == 0
        for text in ("已电话回访", "已寄回主板"):
            assert run("comment", "20261122-1", "-m", text).exit_code == 0
        assert object_counts(desk.root)[1] == 4  # due, but not started beside the other
    small = {p.name for p in (desk.root / ".git/objects/pack").glob("*.pack")} - big
    assert run("comment", "20261122-1", "-m", "客户确认已修好").exit_code == 0
    deadline = time.monotonic() + 60
    with open(lock) as waiting:  # the roll-up holds the lock until it ends
        while True:
            try:
                fcntl.flock(waiting, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    names = {p.name for p in (desk.root / ".git/objects/pack").glob("*.pack")}
    assert len(names) <= 2 and not names & small  # the small ones rolled up
    assert "客户确认已修好" in run("show", "20261122-1").stdout
    git(desk.root, "fsck", "--no-progress")
