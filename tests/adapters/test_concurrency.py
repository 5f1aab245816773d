"""Many processes at once, a held lock, and kill -9 at any moment: nothing is lost."""

import fcntl
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from svcdesk.base.errors import ExitCode

from conftest import BIN, FAULT, commit_count, git, head_files, svcdesk_process

pytestmark = pytest.mark.slow  # concurrency: many processes, kill -9, held locks


def ticket_paths(root) -> set:
    return {p for p in head_files(root) if p.endswith(".yaml") and p.startswith("tickets/")}


def test_two_processes_creating_at_once_get_distinct_numbers(desk):
    procs = [svcdesk_process(*FAULT, "-q", cwd=desk.root) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    numbers = {out.strip() for out, _ in outs}
    assert numbers == {"SD-20261122-0001", "SD-20261122-0002"}
    assert len(ticket_paths(desk.root)) == 2
    assert git(desk.root, "status", "--porcelain") == ""


def test_eight_processes_of_25_new_each_lose_nothing(desk):
    script = ("import subprocess, sys\n"
              "for i in range(25):\n"
              "    r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
              "    print(r.returncode, r.stdout.strip(), r.stderr.strip().replace('\\n', ' '))\n")
    procs = [subprocess.Popen(
        [sys.executable, "-c", script, str(BIN / "svcdesk"), *FAULT, "-q"], cwd=desk.root,
        stdout=-1, stderr=-1, text=True) for _ in range(8)]
    lines = []
    for p in procs:
        out, err = p.communicate(timeout=280)
        lines += out.splitlines()
    failures = [line for line in lines if not line.startswith("0 ")]
    assert not failures, failures[:3]
    printed = {line.split()[1] for line in lines}
    assert len(printed) == 200
    assert {p.rsplit("/", 1)[1][:-5] for p in ticket_paths(desk.root)} == printed
    assert git(desk.root, "status", "--porcelain") == ""
    git(desk.root, "fsck", "--no-progress")


def test_a_held_lock_makes_a_command_wait_then_fail_naming_the_holder(desk, run, monkeypatch):
    lock = desk.state.lock
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"svcdesk comment by li.qiang (pid 4242, since 10:02:55)\n")
    try:
        monkeypatch.setenv("SVCDESK_LOCK_TIMEOUT", "0.5")
        started = time.monotonic()
        result = run(*FAULT)
        waited = time.monotonic() - started
    finally:
        os.close(fd)
    assert result.exit_code == ExitCode.LOCKED
    assert result.stderr == ("Error: the desk is locked by svcdesk comment by li.qiang "
                             "(pid 4242, since 10:02:55); gave up after 0.5 s (wait longer "
                             "with SVCDESK_LOCK_TIMEOUT=SECONDS)\n")
    assert 0.5 <= waited < 5
    assert run(*FAULT).exit_code == 0  # released: works again


def test_the_lock_is_released_when_its_holder_dies(desk, run):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl,os,sys,time; fd=os.open(sys.argv[1], os.O_RDWR|os.O_CREAT);"
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
         str(desk.state.lock)], stdout=-1, text=True)
    desk.state.make()
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait()
    assert run(*FAULT).exit_code == 0


def test_a_stale_git_index_lock_from_a_killed_run_is_recovered(desk, run):
    (desk.root / ".git" / "index.lock").write_text("")
    assert run(*FAULT).exit_code == 0
    assert not (desk.root / ".git" / "index.lock").exists()
    assert git(desk.root, "status", "--porcelain") == ""


def test_git_index_lock_of_a_live_git_is_left_alone_and_the_next_command_finishes(
        desk, run, monkeypatch):
    from svcdesk.adapters import repo

    run(*FAULT)
    monkeypatch.setattr(repo, "_STALE_WAIT", 0.3)
    lock = desk.root / ".git" / "index.lock"
    holder = subprocess.Popen(["git", "update-index", "--stdin"], cwd=desk.root,
                              stdin=subprocess.PIPE)  # holds git's index lock till its input ends
    try:
        deadline = time.monotonic() + 10
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lock.exists()
        result = run("comment", "1122-1", "-m", "已远程排查")
        assert result.exit_code == 0, result.stderr
        assert lock.exists()  # never taken from a git that still runs
        assert git(desk.root, "log", "-1", "--format=%s") == \
            "SD-20261122-0001: comment: 已远程排查\n"
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not lock.exists()
    assert git(desk.root, "status", "--porcelain") != ""  # git's index is behind the commit
    assert run("comment", "1122-1", "-m", "已更换主板").exit_code == 0  # and is brought up
    assert git(desk.root, "status", "--porcelain") == ""


def test_kill_9_at_random_moments_never_loses_a_printed_change(desk):
    rng = random.Random(11)
    git(desk.root, "config", "gc.auto", "0")  # keep background gc out of the timing
    started = time.monotonic()
    first = svcdesk_process(*FAULT, "-q", cwd=desk.root)
    assert first.communicate(timeout=30)[0].strip() == "SD-20261122-0001"
    # kill anywhere from start-up to a little past a whole run, however fast this machine is
    window = (time.monotonic() - started) * 1.5
    printed = []
    for i in range(100):
        args = (("comment", "1122-1", "-m", f"进展 {i}") if i % 2 else FAULT + ("-q",))
        proc = svcdesk_process(*args, cwd=desk.root, start_new_session=True)
        time.sleep(rng.uniform(0.0, window))
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the command and any git it started
        except ProcessLookupError:
            pass
        out, _ = proc.communicate(timeout=30)
        if proc.returncode == 0:
            printed.append((args[0], out.strip()))
    # the next command always works, and everything that printed success is in HEAD
    after = svcdesk_process("comment", "1122-1", "-m", "收尾", cwd=desk.root)
    out, err = after.communicate(timeout=30)
    assert after.returncode == 0, err
    names = {p.rsplit("/", 1)[1][:-5] for p in ticket_paths(desk.root)}
    for command, output in printed:
        if command == "new":
            assert output in names
    log = git(desk.root, "log", "--format=%s")
    for command, output in printed:
        if command == "comment":
            assert output == "SD-20261122-0001: comment added"
    comments_printed = sum(1 for c, _ in printed if c == "comment")
    assert log.count("SD-20261122-0001: comment: 进展") >= comments_printed
    assert git(desk.root, "status", "--porcelain") == ""
    git(desk.root, "fsck", "--no-progress", "--no-dangling")
    assert not list((desk.root / ".git/objects/pack").glob("tmp_*"))  # no half-written pack
    assert 0 < len(printed) < 100  # some runs were killed, some finished
    assert commit_count(desk.root) >= len(printed) + 2


def test_the_half_written_pack_of_a_killed_commit_is_removed_by_the_next_change(desk, run):
    """A fast-import killed mid-commit leaves objects/pack/tmp_pack_* (git fsck then says
    the packfile cannot be accessed); the next change, finding the journal, removes it."""
    assert run(*FAULT).exit_code == 0
    pack = desk.root / ".git/objects/pack"
    (pack / "tmp_pack_Ab12Cd").write_bytes(b"PACK\x00\x00\x00\x02 cut short")
    (pack / "tmp_idx_Ef34Gh").write_bytes(b"")
    desk.state.journal.write_text('{"head": null, "paths": []}', encoding="utf-8")
    assert run("comment", "1122-1", "-m", "已电话回访").exit_code == 0
    assert not list(pack.glob("tmp_*")) and not desk.state.journal.exists()
    git(desk.root, "fsck", "--no-progress", "--no-dangling")
