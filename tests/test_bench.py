"""The benchmark kit makes desks that svcdesk reads without a single error."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import git, run_cli

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
