"""The ticket index: never stale, rebuilt when damaged, searched in Chinese and English."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from svcdesk.adapters import index as index_mod
from svcdesk.adapters import store
from svcdesk.app import intake, lookup
from svcdesk.app.desk import Desk
from svcdesk.base.errors import ExitCode
from svcdesk.base.query import Filter

from conftest import FAULT, commit_all, found, git, ids, svcdesk_process

FIRST = "tickets/2026/11/SD-20261122-0001.yaml"
SECOND = "tickets/2026/11/SD-20261122-0002.yaml"
INQUIRY = ("new", "--type", "inquiry", "--title", "How do I print on both sides?",
           "--customer", "Daniel Müller", "--phone", "13900000000",
           "--description", "Duplex printing option missing in the Windows 11 driver")


def index_file(root):
    return root / ".git/svcdesk/index.sqlite"


# ---- never stale -----------------------------------------------------------------------------

def test_the_first_read_builds_the_index_and_later_reads_parse_nothing(desk, run):
    run(*FAULT, "--no-auto")  # the rules' assignment would read the index
    assert not index_file(desk.root).exists()
    assert ids(run) == ["SD-20261122-0001"]
    assert index_file(desk.root).exists()
    status = json.loads(run("index", "status", "--format", "json").stdout)
    assert status["tickets"] == 1 and status["parsed_now"] == 0
    assert status["tree"] == git(desk.root, "rev-parse", "HEAD:tickets").strip()


def test_a_new_ticket_and_a_comment_are_seen_by_the_next_read(desk, run):
    run(*FAULT)
    assert found(run, "蓝屏") == ["SD-20261122-0001"]
    run(*INQUIRY)
    run("comment", "20261122-1", "-m", "已寄回主板，等待更换")
    assert ids(run) == ["SD-20261122-0002", "SD-20261122-0001"]
    assert found(run, "主板") == ["SD-20261122-0001"]


def test_an_uncommitted_hand_edit_is_seen(desk, run):
    run(*FAULT)
    ids(run)
    path = desk.root / FIRST
    path.write_text(path.read_text(encoding="utf-8").replace(
        "电脑无法开机故障报修", "笔记本电池鼓包"), encoding="utf-8")
    listed = json.loads(run("list", "--format", "json").stdout)
    assert listed[0]["title"] == "笔记本电池鼓包"
    assert found(run, "电池鼓包") == ["SD-20261122-0001"]
    assert found(run, "无法开机") == []


def test_new_counts_loads_on_the_desk_as_committed_and_the_next_read_sees_hand_edits(
        desk, run, tmp_path, monkeypatch):
    run(*FAULT)
    ids(run)  # the index stands at HEAD
    path = desk.root / FIRST
    path.write_text(path.read_text(encoding="utf-8").replace(
        "电脑无法开机故障报修", "笔记本电池鼓包"), encoding="utf-8")
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    assert run(*INQUIRY).exit_code == 0
    said = trace.read_text()
    assert "rev-parse HEAD HEAD:tickets" in said  # the index was brought up to HEAD
    assert "diff-index" not in said  # without a look at every file
    monkeypatch.delenv("GIT_TRACE")
    listed = {t["id"]: t["title"] for t in json.loads(run("list", "--format", "json").stdout)}
    assert listed["SD-20261122-0001"] == "笔记本电池鼓包"
    assert found(run, "电池鼓包") == ["SD-20261122-0001"]
    # a file the index knows to differ from HEAD stays a suspect through another `new`: put
    # back as HEAD has it, the next read sees that too
    assert run(*INQUIRY).exit_code == 0
    git(desk.root, "checkout", "--", FIRST)
    assert found(run, "电池鼓包") == []
    assert found(run, "无法开机") == ["SD-20261122-0001"]


def test_a_read_overlapped_with_the_check_is_kept_only_when_nothing_changed(desk, run):
    run(*FAULT)
    for path in [desk.root / "tickets", *(desk.root / "tickets").rglob("*")]:
        past = path.stat().st_mtime_ns - 10 * 10**9  # older than the racy window
        os.utime(path, ns=(past, past))
    ids(run)

    def titles(con):
        reads.append(1)
        return [title for (title,) in con.execute("SELECT title FROM tickets")]

    reads = []
    assert Desk(desk.root).index.settled(titles) == ["电脑无法开机故障报修"]
    assert len(reads) == 1  # nothing changed: the early answer stands
    path = desk.root / FIRST
    path.write_text(path.read_text(encoding="utf-8").replace(
        "电脑无法开机故障报修", "笔记本电池鼓包"), encoding="utf-8")
    reads = []
    assert Desk(desk.root).index.settled(titles) == ["笔记本电池鼓包"]
    assert len(reads) == 2  # the early answer was stale: read again after catching up


def test_other_files_in_the_tickets_folder_are_not_tickets(desk, run):
    run(*FAULT)
    (desk.root / "tickets" / "README.md").write_text("# 工单\n", encoding="utf-8")
    commit_all(desk.root)
    ids(run)
    (desk.root / "tickets" / "README.md").write_text("# 工单目录\n", encoding="utf-8")
    keep = desk.root / "tickets" / ".gitkeep"
    os.utime(keep, ns=(keep.stat().st_mtime_ns, keep.stat().st_mtime_ns - 10**9))
    assert ids(run) == ["SD-20261122-0001"]  # and no file reported as unreadable


def test_a_second_edit_of_an_already_edited_file_is_seen(desk, run):
    run(*FAULT)
    path = desk.root / FIRST
    original = path.read_text(encoding="utf-8")
    for title in ("第一次修改", "第二次修改", "第三次修改"):
        path.write_text(original.replace("电脑无法开机故障报修", title), encoding="utf-8")
        os.utime(path, ns=(path.stat().st_mtime_ns, path.stat().st_mtime_ns - 5 * 10**9))
        assert json.loads(run("list", "--format", "json").stdout)[0]["title"] == title


def test_a_deleted_file_leaves_the_index_committed_or_not(desk, run):
    run(*FAULT)
    run(*FAULT)
    assert len(ids(run)) == 2
    (desk.root / SECOND).unlink()
    assert ids(run) == ["SD-20261122-0001"]
    commit_all(desk.root, "remove a ticket")
    assert ids(run) == ["SD-20261122-0001"]
    assert run("show", "20261122-2").exit_code == ExitCode.NOT_FOUND


def test_a_checkout_of_an_old_commit_and_back_is_seen(desk, run):
    run(*FAULT)
    run(*INQUIRY)
    assert len(ids(run)) == 2
    git(desk.root, "checkout", "-q", "HEAD~1")
    assert ids(run) == ["SD-20261122-0001"]
    git(desk.root, "checkout", "-q", "main")
    assert len(ids(run)) == 2


def test_a_rebuilt_branch_is_seen(desk, run):
    run(*FAULT)
    base = git(desk.root, "rev-parse", "HEAD").strip()
    run(*INQUIRY)
    assert len(ids(run)) == 2
    git(desk.root, "reset", "-q", "--hard", base)
    run(*FAULT)  # a different ticket takes number 0002 on the rebuilt branch
    listed = json.loads(run("list", "--format", "json").stdout)
    assert [t["type"] for t in listed] == ["fault", "fault"]
    assert found(run, "Duplex") == []


def test_a_pull_from_another_clone_is_seen(desk, run, tmp_path, monkeypatch):
    run(*FAULT)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(desk.root), str(clone))
    monkeypatch.chdir(clone)
    assert ids(run) == ["SD-20261122-0001"]
    monkeypatch.chdir(desk.root)
    run(*INQUIRY)
    run("comment", "20261122-1", "-m", "客户同意上门检测")
    monkeypatch.chdir(clone)
    git(clone, "pull", "-q", "--ff-only")
    assert ids(run) == ["SD-20261122-0002", "SD-20261122-0001"]
    assert found(run, "上门检测") == ["SD-20261122-0001"]


def test_a_ticket_file_git_does_not_track_is_seen_and_its_edits_too(desk, run):
    run(*FAULT)
    ids(run)
    text = (desk.root / FIRST).read_text(encoding="utf-8")
    copied = desk.root / "tickets/2026/10/SD-20261015-0001.yaml"
    copied.parent.mkdir(parents=True)
    copied.write_text(text.replace("SD-20261122-0001", "SD-20261015-0001"), encoding="utf-8")
    assert "SD-20261015-0001" in ids(run)
    copied.write_text(copied.read_text(encoding="utf-8").replace("电脑无法开机故障报修",
                                                                 "导入的旧工单"),
                      encoding="utf-8")
    os.utime(copied, ns=(copied.stat().st_mtime_ns, copied.stat().st_mtime_ns - 5 * 10**9))
    assert found(run, "导入的旧工单") == ["SD-20261015-0001"]
    copied.unlink()
    assert ids(run) == ["SD-20261122-0001"]


def test_a_broken_ticket_is_named_left_out_and_back_once_fixed(desk, run):
    run(*FAULT)
    run(*INQUIRY)
    path = desk.root / SECOND
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("type: inquiry", "type: [inquiry"), encoding="utf-8")
    result = run("list", "--format", "json")
    assert result.exit_code == ExitCode.TICKET_FILE
    assert [t["id"] for t in json.loads(result.stdout)] == ["SD-20261122-0001"]
    assert f"{SECOND}:" in result.stderr and "not valid YAML" in result.stderr
    search = run("search", "Duplex")
    assert search.exit_code == ExitCode.TICKET_FILE and SECOND in search.stderr
    assert "not found" not in run("show", "20261122-2").stderr  # found; its error is shown
    path.write_text(good, encoding="utf-8")
    assert len(ids(run)) == 2


def test_a_large_broken_ticket_is_not_parsed_again_until_it_changes(desk, run, monkeypatch):
    from svcdesk.adapters import store

    run(*FAULT)
    run(*INQUIRY)
    path = desk.root / SECOND
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("type: inquiry", "type: [inquiry") + "# " + "长" * 100_000
                    + "\n", encoding="utf-8")
    commit_all(desk.root, "a broken ticket")
    long_ago = time.time() - 60
    os.utime(path, (long_ago, long_ago))
    listed = run("list")
    assert listed.exit_code == ExitCode.TICKET_FILE and SECOND in listed.stderr
    parsed, parse = [], store.ticket_from_bytes

    def counting(schema, raw, relpath):
        parsed.append(relpath)
        return parse(schema, raw, relpath)

    monkeypatch.setattr(store, "ticket_from_bytes", counting)
    for command in (("show", "20261122-2"), ("comment", "20261122-2", "-m", "收到"),
                    ("show", "SD-20261122-0002", "--format", "json")):
        result = run(*command)
        assert result.exit_code == ExitCode.TICKET_FILE, command
        # the same words as when it was read: file, line and what is wrong
        assert result.stderr == listed.stderr.splitlines()[0].replace("Warning:", "Error:",
                                                                       1) + "\n"
    assert SECOND not in parsed
    path.write_text(good, encoding="utf-8")  # mended: read again
    assert run("show", "20261122-2").exit_code == 0 and SECOND in parsed


# ---- a cache that can always be deleted ------------------------------------------------------

@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_index_is_rebuilt(desk, run, damage):
    run(*FAULT)
    ids(run)
    path = index_file(desk.root)
    data = path.read_bytes()
    path.write_bytes({"garbage": b"not a database at all " * 200,
                      "truncated": data[:len(data) // 3], "empty": b""}[damage])
    assert ids(run) == ["SD-20261122-0001"]
    assert found(run, "蓝屏") == ["SD-20261122-0001"]


def test_an_index_of_another_format_is_rebuilt(desk, run):
    run(*FAULT)
    ids(run)
    con = sqlite3.connect(index_file(desk.root))
    con.execute("PRAGMA user_version = 999")
    con.execute("DELETE FROM tickets")
    con.commit()
    con.close()
    assert ids(run) == ["SD-20261122-0001"]
    assert sqlite3.connect(index_file(desk.root)).execute(
        "PRAGMA user_version").fetchone()[0] == index_mod.FORMAT


def mark_index(root) -> None:
    """Leave a row in the index that only a rebuild would remove."""
    con = sqlite3.connect(index_file(root))
    con.execute("INSERT INTO meta VALUES ('test-mark', 'kept')")
    con.commit()
    con.close()


def index_kept(root) -> bool:
    return sqlite3.connect(index_file(root)).execute(
        "SELECT count(*) FROM meta WHERE key = 'test-mark'").fetchone()[0] == 1


def edit_rules(root, old: str, new: str) -> None:
    rules = root / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert old in text
    rules.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("old, new, kept", [
    ("name: 示例售后服务台", "name: 新的服务台", True),              # the desk's name
    ("    capacity: 20", "    capacity: 12", True),                  # an agent's load limit
    ("label: 所属行业", "label: 行业", True),                         # a text field's label
    ("      response: 30m\n", "      response: 20m\n", True),      # an SLA target
    ("product.version:\n    type: string", "product.version:\n    type: text", False),
    ("      once: 仅出现一次\n", "", False),                  # an enum loses a choice
    ("    name: 王芳\n", "    name: 王芳芳\n", False),        # an agent's name: an assignee label
    ("timezone: Asia/Shanghai", "timezone: Asia/Tokyo", False),
    ("first_response: [wait, resolve]", "first_response: [wait]", False),  # response actions
], ids=["desk-name", "agent", "label", "sla", "type", "choice", "agent-name", "timezone",
        "response"])
def test_a_rules_edit_rebuilds_the_index_only_when_the_rows_depend_on_it(desk, run, old, new,
                                                                        kept):
    run(*FAULT, "--no-auto")
    ids(run)
    mark_index(desk.root)
    edit_rules(desk.root, old, new)
    assert ids(run) == ["SD-20261122-0001"]
    assert index_kept(desk.root) is kept


def test_an_interrupted_build_leaves_no_index_and_the_next_read_builds_it(desk, run):
    for _ in range(3):
        run(*FAULT, "--no-auto")

    class Interrupt:
        def __init__(self, total):
            pass

        def update(self, count):
            raise KeyboardInterrupt

        def finish(self):
            pass

    index_mod_progress = index_mod.PROGRESS_FROM
    try:
        index_mod.PROGRESS_FROM = 1
        with pytest.raises(KeyboardInterrupt):
            lookup.listing(Desk(desk.root, progress=Interrupt), Filter())
    finally:
        index_mod.PROGRESS_FROM = index_mod_progress
    assert not index_file(desk.root).exists()
    assert not list(index_file(desk.root).parent.glob("*.tmp"))
    assert len(ids(run)) == 3


def building(tmp_path, tickets: int) -> tuple:
    """(root, state folder) of a desk of ``tickets`` that bench/make_desk.py made."""
    root = tmp_path / "big"
    made = subprocess.run([sys.executable, str(Path(__file__).parents[2] / "bench" /
                                               "make_desk.py"), str(root), "--tickets",
                           str(tickets), "--years", "1"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    return root, root / ".git" / "svcdesk"


def started_build(root, state):
    """An `index rebuild` under way, in a session of its own, once its temporary file is
    there."""
    build = svcdesk_process("index", "rebuild", cwd=root, env={"SVCDESK_SERVER": "0"},
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(state.glob("index.sqlite.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.005)
    return build


@pytest.mark.slow
def test_a_build_killed_outright_leaves_a_file_the_next_build_removes(tmp_path):
    root, state = building(tmp_path, 600)
    build = started_build(root, state)
    os.killpg(build.pid, signal.SIGKILL)  # the builder and its workers: no clean-up runs
    build.communicate()
    assert list(state.glob("index.sqlite.*.tmp*")), "the build ended before it was killed"
    assert not index_file(root).exists()
    listed = svcdesk_process("list", "--limit", "1", "--format", "json", cwd=root,
                             env={"SVCDESK_SERVER": "0"})
    out, err = listed.communicate()
    assert listed.returncode == 0, err
    assert len(json.loads(out)) == 1
    assert not list(state.glob("index.sqlite.*.tmp*"))


@pytest.mark.slow
def test_ctrl_c_during_a_first_build_ends_it_cleanly(tmp_path):
    """Ctrl-C reaches the builder and its worker processes (one process group): the builder
    alone answers, with one line, exit 130, no temporary file left; no worker prints a
    traceback of its own, and nothing waits for a worker that is gone."""
    root, state = building(tmp_path, 3000)
    stopped = 0
    for _ in range(3):
        build = started_build(root, state)
        time.sleep(0.05)  # the workers at work
        os.killpg(build.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
        out, err = build.communicate(timeout=30)
        assert build.returncode in (130, 0), err  # 0: it finished first
        assert "Traceback" not in err and "ForkPoolWorker" not in err, err
        if build.returncode == 130:
            stopped += 1
            assert err.strip().splitlines()[-1] == "Aborted."
            assert not list(state.glob("index.sqlite.*.tmp*"))
    assert stopped, "every build finished before its Ctrl-C"


def test_index_rebuild_and_status(desk, run):
    run(*FAULT)
    result = run("index", "rebuild")
    assert result.exit_code == 0 and "Indexed 1 ticket(s)" in result.stdout
    status = run("index", "status")
    assert status.exit_code == 0
    assert "tickets" in status.stdout and "index.sqlite" in status.stdout


@pytest.mark.slow
def test_the_parallel_build_gives_the_same_rows_as_one_process(make_desk, monkeypatch):
    sample = make_desk(sample=True)
    serial = sample.index.rebuild()
    rows = sample.index.listing(Filter(), sample.rules.tz)
    sample.index.close()
    monkeypatch.setattr(index_mod, "PARALLEL_FROM", 1)
    again = Desk(sample.root)
    assert again.index.rebuild() == serial == 40
    assert again.index.listing(Filter(), sample.rules.tz) == rows


@pytest.mark.slow
def test_concurrent_first_reads_build_one_good_index(make_desk):
    sample = make_desk(sample=True)
    procs = [svcdesk_process("list", "--status", "all", "--format", "json", cwd=sample.root)
             for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outputs]
    assert all(len(json.loads(out)) == 40 for out, _ in outputs)
    assert sqlite3.connect(index_file(sample.root)).execute(
        "PRAGMA integrity_check").fetchone()[0] == "ok"


# ---- search -------------------------------------------------------------------------------

def test_search_finds_chinese_words_of_any_length(make_desk, run):
    make_desk(sample=True)
    two = found(run, "卡纸")
    assert two and set(two) <= set(ids(run))
    longer = found(run, "频繁卡纸")
    assert longer and set(longer) <= set(two)
    assert found(run, "卡纸", "财务") == [i for i in two if i in found(run, "财务")]


def test_two_character_words_are_found_through_the_index_wherever_they_stand(desk, run):
    run("new", "--type", "inquiry", "--title", "打印机卡纸", "--customer", "王五",
        "--phone", "13900000000", "--description", "换了硒鼓以后 PC 连不上")
    run(*INQUIRY)
    # at the end of the title, of the text and of the customer/product words, too
    assert found(run, "卡纸") == found(run, "王五") == found(run, "PC") == found(run, "pc") \
        == ["SD-20261122-0001"]
    assert found(run, "Mü") == ["SD-20261122-0002"]
    assert found(run, "纸打") == [] and found(run, "卡纸", "duplex") == []
    con = Desk(desk.root).index.refresh()  # answered by the trigram index, not a scan
    assert "卡纸 " in index_mod._trigrams_starting(con, "卡纸")
    assert index_mod._trigrams_starting(con, "纸打") == []


def test_search_ranks_title_matches_first_and_shows_the_matching_text(make_desk, run):
    make_desk(sample=True)
    result = run("search", "打印机")
    assert result.exit_code == 0
    hits = json.loads(run("search", "打印机", "--format", "json").stdout)
    assert hits and "打印机" in hits[0]["title"]
    assert all("打印机" in h["snippet"] or "打印机" in h["title"] for h in hits)
    assert "打印机" in result.stdout and "找到" in result.stdout


def test_search_is_case_insensitive_in_english_and_filters_by_status(desk, run):
    run(*FAULT)
    run(*INQUIRY)
    assert found(run, "duplex") == ["SD-20261122-0002"]
    assert found(run, "WINDOWS", "driver") == ["SD-20261122-0002"]
    assert found(run, "müller") == ["SD-20261122-0002"]  # the customer, too
    assert run("search", "duplex", "--status", "closed", "--format", "json").stdout.strip() \
        == "[]"


def test_search_folds_case_beyond_ascii_for_words_of_any_length(desk, run):
    run(*FAULT)
    run(*INQUIRY)  # the customer is Daniel Müller
    for word in ("MÜLLER", "Müller", "ÜLL", "Ü", "mÜ"):
        assert found(run, word) == ["SD-20261122-0002"], word
    assert found(run, "MÜLLERS") == []


def test_a_common_word_is_ranked_among_its_hits_indexed_last(desk, run, monkeypatch):
    """bm25 reads every hit's text again (the index keeps no positions), so a word found in
    more than RANK_MOST tickets is ranked among those made or changed most recently."""
    monkeypatch.setattr(index_mod, "RANK_MOST", 2)
    made = run("new", "--type", "fault", "--title", "打印机卡纸", *FAULT[5:-2],
               "--description", "卡纸")
    assert made.exit_code == 0, made.stderr
    for i in range(3):
        run(*FAULT[:-2], "--description", f"第 {i} 台打印机不能开机")
    for path in (desk.root / "tickets").rglob("*.yaml"):  # none changed as it was indexed
        past = path.stat().st_mtime_ns - 10 * 10**9
        os.utime(path, ns=(past, past))
    assert run("index", "rebuild").exit_code == 0  # indexed in the order of their numbers
    assert found(run, "打印机", "--limit", "2") == ["SD-20261122-0004", "SD-20261122-0003"]
    # the title hit, made first, is ranked first again once it is changed
    assert run("comment", "SD-20261122-0001", "-m", "客户来电催促").exit_code == 0
    assert found(run, "打印机", "--limit", "2")[0] == "SD-20261122-0001"
    assert len(found(run, "打印机", "--limit", "4")) == 4  # never fewer than asked for


def test_search_covers_comments_and_internal_notes(desk, run):
    run(*FAULT)
    run("comment", "20261122-1", "-m", "客户说屏幕有闪烁")
    run("comment", "20261122-1", "--internal", "-m", "怀疑是批次问题 BATCH-7")
    assert found(run, "闪烁") == ["SD-20261122-0001"]
    assert found(run, "batch-7") == ["SD-20261122-0001"]


def test_search_with_odd_characters_is_safe(desk, run):
    run(*FAULT)
    for text in ('"', "a\"b OR c", "100%", "_", "*", "NEAR(", "0x0000007B'"):
        result = run("search", text, "--format", "json")
        assert result.exit_code == 0, (text, result.stderr)
    assert found(run, "0x0000007B") == ["SD-20261122-0001"]
    assert run("search", " ").exit_code == ExitCode.USAGE


# ---- the queries later commands use -------------------------------------------------------------

def test_the_brief_listing_of_a_table_prints_as_the_whole_tickets_do(make_desk):
    from svcdesk.cli.view import render_list

    sample = make_desk(sample=True)
    for sort in ("created", "priority", "assignee"):
        whole = lookup.listing(sample, Filter(), sort).tickets
        brief = lookup.listing(sample, Filter(), sort, brief=True).tickets
        assert [t["id"] for t in brief] == [t["id"] for t in whole]
        assert render_list(brief, sample.rules) == render_list(whole, sample.rules)
    assert set(brief[0]) <= {"id", "status", "priority", "type", "title", "assignee",
                             "created", "customer"}


def test_open_load_and_tickets_in_a_period(make_desk):
    sample = make_desk(sample=True)
    load = intake.open_load(sample)
    listing = lookup.listing(sample, Filter(statuses=tuple(sample.rules.open_statuses())))
    expected = {}
    for t in listing.tickets:
        if t.get("assignee"):
            expected[t["assignee"]] = expected.get(t["assignee"], 0) + 1
    assert load == expected
    one = sorted(expected)[0]  # only the agents asked about are counted
    assert sample.index.open_load(sample.rules.open_statuses(), [one]) == {one: expected[one]}
    from datetime import datetime, timedelta

    end = sample.now()
    week = sample.index.between("created", end - timedelta(days=7), end)
    assert week and all(end - timedelta(days=7) <= datetime.fromtimestamp(
        r["created"], sample.rules.tz) < end for r in week)
    resolved = sample.index.between("resolved", end - timedelta(days=60), end)
    assert resolved and all(r["resolved"] >= r["created"] for r in resolved)


def test_a_ticket_listed_from_the_index_has_every_field_of_its_file_in_order(make_desk):
    """The index keeps a ticket's title, status, team... once, in their columns, and puts
    them back into its fields in their places."""
    from svcdesk.base.fields import dump

    sample = make_desk(sample=True)
    listed = {d["id"]: d for d in sample.index.listing(Filter(), sample.rules.tz)}
    assert len(listed) == 40
    for path in store.ticket_files(sample.root):
        fields = dump(store.read_ticket(sample.root, sample.rules.schema, path)[0].fields)
        assert list(listed[fields["id"]].items()) == list(fields.items()), path
