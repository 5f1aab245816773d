"""Shared test helpers: isolated environments, desks from a dict of files, the CLI."""

import csv
import functools
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from svcdesk.cli import cli
from svcdesk.app import admin
from svcdesk.app.desk import Desk
from svcdesk.base.settings import speed_on

NOW = "2026-11-22T10:03:00+08:00"
RULES_FILE = Path(__file__).parents[1] / "rules.yaml"  # the rules svcdesk ships
AGENT = "wang.fang"
BIN = Path(sys.executable).parent


@functools.cache
def shipped_rules():
    """The rules svcdesk ships, compiled (for tests that need no desk)."""
    import yaml

    from svcdesk.domain.rules import compile_rules

    return compile_rules(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")))


def pytest_report_header(config):
    """The seed of this run's samples of the hostile corpus and the fault runs
    (tests/hostile), to replay them."""
    import random

    seed = os.environ.setdefault("SVCDESK_HOSTILE_SEED", str(random.randrange(10**6)))
    return (f"hostile corpus: a sample of {os.environ.get('SVCDESK_HOSTILE', '120')} cases, "
            f"fault runs: {os.environ.get('SVCDESK_FAULTS', '64')}, seed {seed} (replay: "
            f"SVCDESK_HOSTILE_SEED={seed}; every case: SVCDESK_HOSTILE=all; 500 fault runs: "
            "SVCDESK_FAULTS=all)")


def pytest_ignore_collect(collection_path, config):
    """The everyday loop (-m "not slow") does not import a module that is slow as a whole:
    the hostile corpus alone takes 5 s to build (a 300 KB subject folded, a 30 MiB
    attachment encoded, two zip bombs), for tests that would all be deselected."""
    if " ".join((config.getoption("markexpr") or "").split()) != "not slow":
        return None
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    head = collection_path.read_text(encoding="utf-8")[:4000]
    return True if "\npytestmark = pytest.mark.slow\n" in head else None


def pytest_collection_modifyitems(config, items):
    """With the speed machinery switched off (SVCDESK_SPEED=0), its own tests (tests/speed/)
    are skipped: every other test then checks that the commands work without it."""
    if speed_on():
        return
    skip = pytest.mark.skip(reason="the speed machinery is off (SVCDESK_SPEED=0)")
    for item in items:
        if Path(str(item.fspath)).parent.name == "speed":
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    """Every test: no machine git identity, a pinned clock, a known agent, no colour."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith(("SVCDESK_", "GIT_")) and name != "SVCDESK_SPEED":
            monkeypatch.delenv(name, raising=False)  # SVCDESK_SPEED=0 runs the plain path
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # a change's roll-up of small packs then runs before the command returns, not after
    (home / "gitconfig").write_text("[gc]\n\tautoDetach = false\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("SVCDESK_NOW", NOW)
    monkeypatch.setenv("SVCDESK_AGENT", AGENT)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("SVCDESK_SERVER", "0")  # a developer's running server serves no test
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)


_MADE: dict = {}  # (sample, clock, speed switch) -> a desk made by init, copied for each test


def _made(factory, sample: bool) -> Path:
    """A desk `init` made with this clock and speed switch, made once per test session:
    copying it costs a fifth of making it, and most tests start from one."""
    key = (sample, os.environ.get("SVCDESK_NOW"), os.environ.get("SVCDESK_SPEED"))
    if key not in _MADE:
        root = factory.mktemp("made") / "desk"
        admin.init(root, sample=sample)
        _MADE[key] = root
    return _MADE[key]


@pytest.fixture
def make_desk(tmp_path, tmp_path_factory, monkeypatch):
    """make_desk(files={path: text}, sample=False) -> Desk, committed, as the working dir."""

    def build(files=None, sample=False, name="desk"):
        root = tmp_path / name
        shutil.copytree(_made(tmp_path_factory, sample), root, symlinks=True)
        if files:
            for rel, text in files.items():
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            commit_all(root, "test files")
        monkeypatch.chdir(root)
        return Desk(root)

    return build


@pytest.fixture
def desk(make_desk):
    """An empty desk with the default rules."""
    return make_desk()


@dataclass
class Outcome:
    """What a CLI run returned."""

    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = b""


def run_cli(*args, input=None) -> Outcome:
    """Run svcdesk through click's CliRunner (same error handling as the console script)."""
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    return Outcome(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)


@pytest.fixture
def run():
    """The CLI runner, as a fixture."""
    return run_cli


def ids(run, *args) -> list:
    """The numbers `svcdesk list --status all` gives (with more filters in ``args``)."""
    result = run("list", "--status", "all", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return [t["id"] for t in json.loads(result.stdout)]


def found(run, *words) -> list:
    """The numbers `svcdesk search WORDS` finds, best first."""
    result = run("search", *words, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return [h["id"] for h in json.loads(result.stdout)]


def git(root, *args) -> str:
    """Run git in ``root``; return stdout."""
    return subprocess.run(("git",) + args, cwd=root, check=True, capture_output=True,
                          text=True).stdout


def commit_all(root, message="by hand"):
    """Commit everything in the working tree, as a person would by hand."""
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message)


def head_files(root) -> set:
    """Paths in HEAD's tree."""
    return set(git(root, "ls-tree", "-r", "--name-only", "HEAD").split())


def commit_count(root) -> int:
    """Commits on HEAD."""
    return int(git(root, "rev-list", "--count", "HEAD").strip())


def svcdesk_process(*args, cwd, env=None, **kwargs):
    """Start the installed console script as a real process."""
    return subprocess.Popen([str(BIN / "svcdesk"), *map(str, args)], cwd=cwd,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


FAULT = ("new", "--type", "fault", "--title", "电脑无法开机故障报修", "--customer", "张伟",
         "--phone", "13800000000", "--product", "X1-Pro 笔记本", "--purchased", "2026-03-15",
         "--description", "开机蓝屏，错误代码 0x0000007B，每次开机都出现")


# ---- a 京东 service-order export --------------------------------------------------------

JD_HEADERS = ["服务单号", "订单号", "商品编号", "商品名称", "服务类型", "申请原因", "问题描述",
              "申请时间", "服务单状态", "客户姓名", "联系电话", "收货地址", "下单时间"]


def jd_row(number: str, kind: str = "维修", phone: str = "13706751234") -> list:
    """One row of a 京东 服务单 export, its 服务单号 ``number``."""
    return [number, "2900" + number, "100012345678", "惠普 LP-404 激光打印机", kind, "质量问题",
            "开机后指示灯一直闪烁", "2026-11-21 10:00:00", "待审核", "刘建国", phone,
            "浙江省绍兴市柯桥区", "2026-06-18 21:05:33"]


def jd_csv(path: Path, rows: list, encoding="utf-8-sig", delimiter=",") -> Path:
    """Write ``rows`` (jd_row) as a 京东 export at ``path``, with its header."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([JD_HEADERS] + rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path
