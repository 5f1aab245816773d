"""Making a desk: init, --sample, refusing to overwrite, and a plain (non-editable) install."""

import subprocess
import sys
import zipfile
from pathlib import Path

import git as gitpython  # an independent reader of what svcdesk committed
import pytest

from svcdesk.base.errors import ExitCode

from conftest import BIN, commit_count, git

ROOT = Path(__file__).parents[2]


def test_init_makes_a_git_desk_with_one_commit(tmp_path, run):
    result = run("init", tmp_path / "d")
    assert result.exit_code == 0, result.stderr
    repo = gitpython.Repo(tmp_path / "d")
    assert not repo.is_dirty(untracked_files=True)
    files = {item.path for item in repo.head.commit.tree.traverse()}
    assert {"rules.yaml", ".gitignore", "tickets/.gitkeep", "templates/README.md"} <= files
    assert repo.head.commit.message.splitlines()[-1] == "Svcdesk-Action: init"
    assert (tmp_path / "d" / "rules.yaml").read_bytes() == (ROOT / "rules.yaml").read_bytes()


def test_init_into_an_existing_repository_keeps_its_history(tmp_path, run):
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    (folder / "README.md").write_text("our repo")
    git(folder, "add", "README.md")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qm", "first")
    assert run("init", folder).exit_code == 0
    assert commit_count(folder) == 2


def test_init_refuses_to_overwrite_a_desk(tmp_path, run):
    assert run("init", tmp_path / "d").exit_code == 0
    rules = (tmp_path / "d" / "rules.yaml").read_bytes()
    result = run("init", tmp_path / "d")
    assert result.exit_code == ExitCode.NO_DESK
    assert "already a desk" in result.stderr
    assert (tmp_path / "d" / "rules.yaml").read_bytes() == rules
    assert commit_count(tmp_path / "d") == 1


def test_sample_desk_has_forty_realistic_tickets_with_histories(tmp_path, run, monkeypatch):
    assert run("init", tmp_path / "s", "--sample").exit_code == 0
    monkeypatch.chdir(tmp_path / "s")
    import json

    tickets = json.loads(run("list", "--status", "all", "--format", "json").stdout)
    assert len(tickets) == 40
    assert {t["type"] for t in tickets} == {"fault", "inquiry", "complaint", "maintenance",
                                            "return", "invoice"}
    statuses = {t["status"] for t in tickets}
    assert "closed" in statuses and statuses - {"closed", "resolved"}
    created = sorted(t["created"] for t in tickets)
    assert created[0] >= "2026-10-11" and created[-1] <= "2026-11-22T10:03"
    assert any(not t["title"].isascii() for t in tickets)
    assert any(t["title"].isascii() for t in tickets)
    full = [json.loads(run("show", t["id"], "--format", "json").stdout) for t in tickets]
    actions = {e["action"] for t in full for e in t["events"]}
    assert {"create", "assign", "comment", "escalate", "resolve", "close"} <= actions
    assert git(tmp_path / "s", "status", "--porcelain") == ""
    assert commit_count(tmp_path / "s") > 200  # one commit per event
    # the customers, units and parts the tickets concern, and the fields the documents name
    customers = json.loads(run("customer", "list", "--format", "json").stdout)
    assert len(customers) == 12 and all(t["customer"].get("id") for t in full)
    assert {t["customer"]["id"] for t in full} <= {c["id"] for c in customers}
    with_serial = [t for t in full if t.get("product", {}).get("serial")]
    for t in with_serial[:5]:
        unit = json.loads(run("unit", "show", t["product"]["serial"], "--format", "json").stdout)
        assert unit["customer"] == t["customer"]["id"] and t["id"] in [
            x["id"] for x in unit["tickets"]]
    faults = [t for t in full if t["type"] == "fault"]
    assert all(t.get("usage") and t.get("last_occurred") and t.get("occurred") for t in faults)
    assert any(t.get("product", {}).get("contract") for t in full)
    assert {"part-use", "quote", "approve", "charge"} <= actions
    stock = json.loads(run("parts", "stock", "--format", "json").stdout)
    assert len(stock) == 4 and all(level["total"] >= 0 for level in stock)


def test_python_dash_m_and_version(tmp_path):
    out = subprocess.run([sys.executable, "-m", "svcdesk", "--version"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and out.stdout.startswith("svcdesk, version ")
    out = subprocess.run([str(BIN / "svcdesk"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "new" in out.stdout


@pytest.mark.slow
def test_a_built_wheel_carries_the_defaults_and_can_init(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(wheels), str(ROOT)], check=True, capture_output=True)
    wheel = next(wheels.glob("svcdesk-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "svcdesk/defaults/rules.yaml" in names
    assert "svcdesk/defaults/templates/README.md" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                          "from svcdesk.cli import main; main(['init', sys.argv[2]])",
                          str(target), str(tmp_path / "desk")], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "desk" / "rules.yaml").read_bytes() == (ROOT / "rules.yaml").read_bytes()
