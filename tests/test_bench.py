"""The benchmark kit makes desks that svcdesk reads without a single error."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git, run_cli
from svcdesk.base.settings import speed_on

pytestmark = pytest.mark.slow  # benchmarks: they make desks and time commands

ROOT = Path(__file__).parents[1]


def test_make_desk_writes_a_valid_realistic_desk(tmp_path, monkeypatch):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "make_desk.py"),
                          str(tmp_path / "b"), "--tickets", "600", "--years", "1"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    monkeypatch.chdir(tmp_path / "b")
    result = run_cli("list", "--status", "all", "--format", "json")
    assert result.exit_code == 0, result.stderr
    tickets = json.loads(result.stdout)
    assert len(tickets) == 600
    open_ = [t for t in tickets if t["status"] != "closed"]
    assert len(open_) == 12  # 2% open, the rest closed
    assert len({t["type"] for t in tickets}) == 6
    assert git(tmp_path / "b", "status", "--porcelain") == ""
    assert run_cli(*("comment", tickets[0]["id"], "-m", "回访")).exit_code == 0


def test_make_desk_can_commit_every_change_as_svcdesk_does(tmp_path, monkeypatch):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "make_desk.py"),
                          str(tmp_path / "b"), "--tickets", "40", "--years", "1",
                          "--history", "changes"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    monkeypatch.chdir(tmp_path / "b")
    tickets = json.loads(run_cli("list", "--status", "all", "--format", "json").stdout)
    assert len(tickets) == 40
    commits = int(git(tmp_path / "b", "rev-list", "--count", "HEAD"))
    assert 40 * 5 < commits < 40 * 7  # new, assign, start, comment (resolve, close) each
    closed = next(t["id"] for t in tickets if t["status"] == "closed")
    log = run_cli("log", closed, "--format", "json")
    assert log.exit_code == 0, log.stderr
    assert [e["action"] for e in json.loads(log.stdout)][::-1] == \
        ["create", "assign", "start", "comment", "resolve", "close"]
    assert git(tmp_path / "b", "status", "--porcelain") == ""


def test_the_sla_benchmark_times_a_quiet_and_a_busy_check_and_puts_the_desk_back(tmp_path):
    desk = tmp_path / "b"
    made = subprocess.run([sys.executable, str(ROOT / "bench" / "make_desk.py"), str(desk),
                           "--tickets", "300", "--years", "1", "--open", "0.1"],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), str(desk), "--sla",
                          "5", "--runs", "1"], capture_output=True, text=True,
                         env={**__import__("os").environ,
                              "SVCDESK_NOW": "2026-11-22T10:03:00+08:00"})
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("b ")]
    assert rows and all(int(row[1]) == 30 for row in rows)  # open tickets
    assert int(rows[-1][3]) >= 5  # tickets due at the busy moment
    base = git(desk, "rev-parse", "refs/bench/sla-base").strip()
    assert git(desk, "rev-parse", "HEAD").strip() == base
    assert git(desk, "status", "--porcelain") == ""


def test_the_main_table_times_each_command_direct_and_through_a_server(tmp_path):
    """(Through a server only when the speed machinery is on: off, it times direct runs.)"""
    served_too = speed_on()
    desk = tmp_path / "b"
    made = subprocess.run([sys.executable, str(ROOT / "bench" / "make_desk.py"), str(desk),
                           "--tickets", "200", "--years", "1"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    before = git(desk, "rev-parse", "HEAD").strip()
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), str(desk), "--runs",
                          "1", *(["--server"] if served_too else [])], capture_output=True,
                         text=True,
                         env={**__import__("os").environ,
                              "SVCDESK_NOW": "2026-11-22T10:03:00+08:00"})
    assert out.returncode == 0, out.stderr
    header, _, *rows = out.stdout.splitlines()
    assert (header.split()[-1] == "served") == served_too
    assert header.count("tickets)") == (2 if served_too else 1)
    shown = next(row for row in rows if row.startswith("svcdesk show ID "))
    times = [float(cell) for cell in shown.split()[3:]]
    assert len(times) == header.count("tickets)") and all(t > 0 for t in times)
    # the tickets and comments it made are undone: the next run times the same desk
    assert git(desk, "rev-parse", "HEAD").strip() == before
    assert git(desk, "status", "--porcelain") == ""


def test_the_main_table_compares_two_installations_on_copies_of_a_desk(tmp_path):
    """--compare BIN times another installation (here the same one, to keep the test
    small) on a copy of the desk, and gives this one's time over that one's."""
    desk = tmp_path / "b"
    made = subprocess.run([sys.executable, str(ROOT / "bench" / "make_desk.py"), str(desk),
                           "--tickets", "100", "--years", "1"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), str(desk), "--runs",
                          "1", "--compare", str(Path(sys.executable).parent)],
                         capture_output=True, text=True,
                         env={**__import__("os").environ,
                              "SVCDESK_NOW": "2026-11-22T10:03:00+08:00"})
    assert out.returncode == 0, out.stderr
    header, _, *rows = out.stdout.splitlines()
    assert header.count("tickets)") == 2 and "compare" in header
    assert header.split()[-1] == "this/compare"
    shown = next(row for row in rows if row.startswith("svcdesk show ID "))
    assert float(shown.split()[-1]) > 0
    assert (tmp_path / "b-compare" / "rules.yaml").exists()
    assert git(tmp_path / "b-compare", "status", "--porcelain") == ""


def test_the_intake_benchmark_times_bulk_requests_against_new_and_puts_the_desk_back(
        tmp_path):
    desk = tmp_path / "b"
    made = subprocess.run([sys.executable, str(ROOT / "bench" / "make_desk.py"), str(desk),
                           "--tickets", "200", "--years", "1"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    before = git(desk, "rev-parse", "HEAD").strip()
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), str(desk),
                          "--intake", "--runs", "1", "--messages", "30", "--rows", "40"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    rows = [line.split("  ") for line in out.stdout.splitlines() if line.startswith("b (")]
    assert len(rows) == 2 and "mail import, 30 messages" in out.stdout
    assert "import, 40-row CSV" in out.stdout
    for row in rows:
        cells = [c.strip() for c in row if c.strip()]
        assert float(cells[-1]) > 1  # bulk is faster per request than one `new` each
    assert git(desk, "rev-parse", "HEAD").strip() == before
    assert git(desk, "status", "--porcelain") == ""
