"""Desks on disks that will not take a write: read-only (a mounted backup, a colleague's
folder), where every read works, its caches kept in the user's own folder, and a change is
refused with one clear line (exit 14); and full, where the error says so. Both for real: a
read-only bind mount or a small tmpfs in a mount namespace of the test's own (unshare), gone
when the command ends."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FAULT, git
from svcdesk.base.errors import ExitCode

UNSHARE = shutil.which("unshare")
pytestmark = [pytest.mark.skipif(UNSHARE is None, reason="needs unshare (util-linux)"),
              pytest.mark.slow]  # faults of the disk, in mount namespaces


def read_only(root: Path, *args, cache: Path) -> subprocess.CompletedProcess:
    """``svcdesk ARGS`` in ``root`` while ``root`` is mounted read-only."""
    script = ('mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && cd "$0" && '
              'exec "$@"')
    env = {**__import__("os").environ, "XDG_CACHE_HOME": str(cache), "SVCDESK_SERVER": "0"}
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
