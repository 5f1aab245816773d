"""Desks on disks that will not take a write: read-only (a mounted backup, a colleague's
folder), where every read works, its caches kept in the user's own folder, and a change is
refused with one clear line (exit 14); and full, where the error says so. Both for real: a
read-only bind mount or a small tmpfs in a mount namespace of the test's own (unshare), gone
when the command ends."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FAULT, commit_all, git, jd_csv, jd_row
from servers import dovecot, smtp  # noqa: F401  (the fixtures)
from svcdesk.base.errors import ExitCode

UNSHARE = shutil.which("unshare")
pytestmark = [pytest.mark.skipif(UNSHARE is None, reason="needs unshare (util-linux)"),
              pytest.mark.slow]  # faults of the disk, in mount namespaces


def read_only(root: Path, *args, cache: Path) -> subprocess.CompletedProcess:
    """``svcdesk ARGS`` in ``root`` while ``root`` is mounted read-only."""
    script = ('mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && cd "$0" && '
              'exec "$@"')
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "SVCDESK_SERVER": "0"}
    return subprocess.run([UNSHARE, "-rm", "sh", "-c", script, str(root),
                           str(Path(sys.executable).parent / "svcdesk"), *args],
                          env=env, capture_output=True, text=True, timeout=120)


def test_reads_work_and_changes_are_refused_on_a_read_only_desk(make_desk, run, tmp_path):
    desk = make_desk(sample=True)
    assert run(*FAULT).exit_code == 0
    shutil.rmtree(desk.root / ".git" / "svcdesk")  # as a fresh copy or backup has none
    head = git(desk.root, "rev-parse", "HEAD")
    cache = tmp_path / "cache"
    for args in (("list",), ("search", "卡纸"), ("show", "1122-1"), ("agents",),
                 ("report", "weekly", "--format", "json"), ("log", "1122-1"),
                 ("sla", "check", "--dry-run"), ("index", "status")):
        done = read_only(desk.root, *args, cache=cache)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr and "readonly" not in done.stderr, args
    listed = read_only(desk.root, "list", "--status", "all", "--format", "json", cache=cache)
    assert len(json.loads(listed.stdout)) == 41
    assert list(cache.glob("svcdesk/desks/*/index.sqlite"))  # the caches went there
    for args in (("comment", "1122-1", "-m", "已电话回访"), FAULT, ("sla", "check")):
        done = read_only(desk.root, *args, cache=cache)
        assert done.returncode == ExitCode.READ_ONLY, (args, done.stderr)
        assert done.stderr.startswith("Error: the desk cannot be changed here: Read-only "
                                      "file system") and "nothing was changed" in done.stderr
    assert git(desk.root, "rev-parse", "HEAD") == head
    assert git(desk.root, "status", "--porcelain") == ""


def test_a_full_disk_is_said_as_such_and_nothing_is_half_made(make_desk, tmp_path):
    desk = make_desk(sample=True)
    head = git(desk.root, "rev-parse", "HEAD")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = f"""
mount -t tmpfs -o size=12m tmpfs "{mnt}" && cp -a "{desk.root}" "{mnt}/d" && cd "{mnt}/d" &&
rm -rf .git/svcdesk &&
dd if=/dev/zero of="{mnt}/filler" bs=1k count=$(($(df -k . | tail -1 | awk '{{print $4}}') - 200)) 2>/dev/null
SVCDESK_SERVER=0 "{Path(sys.executable).parent / 'svcdesk'}" "$@"; code=$?
git status --porcelain; git rev-parse HEAD; exit $code
"""
    done = subprocess.run([UNSHARE, "-rm", "sh", "-c", script, "sh", *FAULT], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "No space left on device" in done.stderr, done.stderr
    assert "cannot rollback" not in done.stderr and "Traceback" not in done.stderr
    assert done.stdout.split() == [head.strip()]  # nothing committed, nothing left behind


# ---- every changing command, on a read-only desk and on a full disk -------------------------

# Inside a mount namespace of its own (unshare -rm): mount the desk read-only, or copy it
# onto a small tmpfs mounted on ``spare``; run each command with `git status` and HEAD
# after it, then (on the full disk) free the space and run each again. Its report is JSON
# on stdout.
DRIVER = r"""
import json, os, subprocess, sys
mode, desk, spare, svcdesk, commands = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], \
    json.loads(sys.argv[5])
def sh(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)
def state():
    return [sh("git", "status", "--porcelain", cwd=desk).stdout,
            sh("git", "rev-parse", "HEAD", cwd=desk).stdout.strip()]
if mode == "read-only":
    assert sh("mount", "--bind", desk, desk).returncode == 0
    assert sh("mount", "-o", "remount,ro,bind", desk).returncode == 0
else:
    assert sh("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", spare).returncode == 0
    assert sh("cp", "-a", desk, f"{spare}/d").returncode == 0
    desk, filler = f"{spare}/d", f"{spare}/filler"
report = {"faulty": [], "after": []}
for n, args in enumerate(commands):
    if mode == "full":  # to its last page, again: what a failed command freed is taken
        sh("dd", "if=/dev/zero", f"of={filler}.{n}", "bs=4k")
    done = sh(svcdesk, *args, cwd=desk)
    report["faulty"].append([args, done.returncode, done.stderr, *state()])
if mode == "full":
    for n in range(len(commands)):
        os.unlink(f"{filler}.{n}")
    for args in commands:
        done = sh(svcdesk, *args, cwd=desk)
        report["after"].append([args, done.returncode, done.stderr, *state()])
print(json.dumps(report))
"""


@pytest.fixture
def busy(make_desk, tmp_path, dovecot, smtp, monkeypatch):
    """A desk with work waiting for every changing command: notices queued, mail in the
    mailbox, an export to import, a teammate's push to sync, SLA steps due. Returns (the
    desk's root, the commands, the mailbox's port)."""
    from servers import PASSWORD, deliver, point_at, request_mail

    port, _ = dovecot
    root = make_desk(sample=True).root
    point_at(root, port)
    commit_all(root, "the service mailbox")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "-q", "-u", "origin", "main")
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", PASSWORD)
    env = {**os.environ, "SVCDESK_SERVER": "0"}
    bin_ = Path(sys.executable).parent / "svcdesk"
    subprocess.run([bin_, "clone", f"file://{remote}", str(tmp_path / "b")], check=True,
                   capture_output=True, env=env)
    teammate = subprocess.run([bin_, *FAULT, "-q"], cwd=tmp_path / "b", env=env,
                              capture_output=True, text=True)
    assert teammate.returncode == 0, teammate.stderr
    subprocess.run([bin_, "sync"], cwd=tmp_path / "b", check=True, capture_output=True,
                   env=env)
    made = subprocess.run([bin_, *FAULT, "--email", "zhang.wei@example.cn", "-q"], cwd=root,
                          env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    deliver(port, request_mail(1), request_mail(2))
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-26T10:00:00+08:00")  # SLA steps are due
    export = jd_csv(tmp_path / "jd.csv", [jd_row("7001"), jd_row("7002")])
    commands = [("comment", made.stdout.strip(), "-m", "已电话回访"), FAULT,
                ("close", "1121-1"), ("sla", "check"), ("notify", "send"), ("mail", "fetch"),
                ("import", str(export)), ("sync",)]
    return root, commands, port


def in_namespace(mode: str, root: Path, commands: list, tmp_path: Path) -> dict:
    """The DRIVER's report of ``commands`` run on the desk at ``root`` made read-only
    ("read-only") or copied onto a full disk ("full")."""
    spare = tmp_path / "mnt"
    spare.mkdir()
    done = subprocess.run(
        [UNSHARE, "-rm", sys.executable, "-c", DRIVER, mode, str(root), str(spare),
         str(Path(sys.executable).parent / "svcdesk"), json.dumps(commands)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "SVCDESK_SERVER": "0",
             "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def unseen(port) -> int:
    from imap_tools import AND, MailBoxUnencrypted

    from servers import PASSWORD, USER

    with MailBoxUnencrypted("127.0.0.1", port).login_utf8(USER, PASSWORD) as box:
        return len(list(box.uids(AND(seen=False))))


def refused_whole(report: dict, head: str, says: str) -> None:
    """Each command of the fault was refused with exit 14 in one line saying ``says``, and
    left nothing half made: HEAD as it was, git status clean."""
    for args, code, err, porcelain, after in report["faulty"]:
        assert code == ExitCode.READ_ONLY and says in err, (args, code, err)
        assert len(err.strip().splitlines()) == 1, (args, err)
        assert "Traceback" not in err and "cannot rollback" not in err, (args, err)
        assert porcelain == "" and after == head, (args, porcelain)


def test_every_changing_command_on_a_read_only_desk_is_refused_and_changes_nothing(
        busy, tmp_path, smtp):
    root, commands, port = busy
    head = git(root, "rev-parse", "HEAD").strip()
    report = in_namespace("read-only", root, commands, tmp_path)
    refused_whole(report, head, "Read-only file system")
    assert smtp.messages == [] and unseen(port) == 2  # nothing sent, no mail taken


def test_every_changing_command_on_a_full_disk_fails_whole_and_works_once_there_is_room(
        busy, tmp_path, smtp):
    root, commands, port = busy
    head = git(root, "rev-parse", "HEAD").strip()
    report = in_namespace("full", root, commands, tmp_path)
    refused_whole(report, head, "No space left on device")
    last = head
    for args, code, err, porcelain, after in report["after"]:
        assert code == 0, (args, err)  # the next run recovers, and does the work
        assert porcelain == "" and after != last, args
        last = after
    assert unseen(port) == 0
    received = [m["X-Svcdesk-Notice"] for _, m in smtp.parsed()]
    assert received and len(received) == len(set(received))  # none sent twice
