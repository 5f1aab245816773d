"""SVCDESK_SPEED=0 takes every command down the plain path: the same output, exit codes,
ticket files and commits as with the speed machinery, and none of its caches left behind."""

import re

import pytest

from conftest import git, run_cli, svcdesk_process
from svcdesk.base.errors import ExitCode

TOUR = [
    ("list",), ("list", "--status", "all", "--format", "json"), ("search", "卡纸"),
    ("new", "--channel", "phone", "--title", "电脑无法开机故障报修", "--customer", "张伟",
     "--phone", "13857112345", "--product", "X1-Pro 笔记本", "--purchased", "2026-03-15",
     "--description", "开机蓝屏，错误代码 0x0000007B", "--set", "customer.tier=vip",
     "--explain"),
    ("show", "20261122-1"), ("show", "20261122-1", "--format", "json"), ("agents",),
    ("--as", "li.qiang", "start", "20261122-1", "-m", "已电话联系客户"),
    ("comment", "20261122-1", "-m", "已远程排查，确认主板故障"),
    ("wait", "20261122-1", "-m", "请提供购买凭证"), ("resume", "20261122-1"),
    ("escalate", "20261122-1", "-m", "备件缺货"), ("classify", "20261122-1"),
    ("resolve", "20261122-1", "-m", "更换主板后测试正常"),
    ("close", "20261122-1", "--csat", "5"), ("reopen", "20261122-1", "-m", "问题再次出现"),
    ("log", "20261122-1"), ("sla", "explain", "20261122-1"), ("sla", "check"),
    ("notify", "list"), ("report", "weekly", "--week", "2026-W47"),
    ("rules", "test", "空调不制冷"), ("show", "1122-99"), ("index", "status"),
]
CACHES = ("steps.json", "head-trees.json", "rules.pickle", "trail.sqlite")


def masked(text: str) -> str:
    """``text`` without what differs between two runs by design: ULIDs, commit ids, the
    desk's folder."""
    text = re.sub(r"[0-9A-HJKMNP-TV-Z]{26}", "ULID", text)
    text = re.sub(r"\b[0-9a-f]{40}\b|\b[0-9a-f]{10}\b", "SHA", text)
    return re.sub(r"/\S*/(fast|plain)\b", "DESK", text)


def tour(make_desk, monkeypatch, name: str, speed: str) -> tuple:
    monkeypatch.setenv("SVCDESK_SPEED", speed)
    desk = make_desk(sample=True, name=name)
    said = []
    for args in TOUR:
        result = run_cli(*args)
        said.append((args, result.exit_code, masked(result.stdout), masked(result.stderr)))
    files = {path: masked((desk.root / path).read_text(encoding="utf-8"))
             for path in git(desk.root, "ls-files", "tickets").split()}
    log = masked(git(desk.root, "log", "--format=%an <%ae> %ad%n%B", "--name-status"))
    left = {p.name for p in desk.state.folder.iterdir()}
    return said, files, log, left


@pytest.mark.slow  # a tour of every command, twice: the speed machinery on and off
def test_the_plain_path_says_and_commits_exactly_what_the_fast_one_does(make_desk,
                                                                        monkeypatch):
    fast = tour(make_desk, monkeypatch, "fast", "1")
    plain = tour(make_desk, monkeypatch, "plain", "0")
    for (args, *seen), (_, *again) in zip(fast[0], plain[0]):
        if args == ("index", "status"):  # the trail is a cache; the index's size on disk
            for said in (seen, again):    # depends on how its writes fell into its WAL
                said[1] = re.sub(r"(trail_commits|size_bytes|bytes_per_ticket|size_of_data) .*",
                                 "", said[1])
        assert seen == again, args
    assert fast[1] == plain[1] and fast[2] == plain[2]
    assert set(CACHES) <= fast[3] and not set(CACHES) & plain[3]


def test_with_speed_off_the_server_command_says_why_it_is_not_there(tmp_path):
    off = svcdesk_process("server", "status", cwd=tmp_path, env={"SVCDESK_SPEED": "0"})
    out, err = off.communicate(timeout=60)
    assert off.returncode == ExitCode.USAGE and "SVCDESK_SPEED=0" in err and out == ""
    listed = svcdesk_process("--help", cwd=tmp_path, env={"SVCDESK_SPEED": "0"})
    assert "server" not in listed.communicate(timeout=60)[0]
    on = svcdesk_process("--help", cwd=tmp_path, env={"SVCDESK_SPEED": "1"})
    assert "server" in on.communicate(timeout=60)[0]
