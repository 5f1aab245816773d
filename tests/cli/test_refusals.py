"""Clean refusals and right answers at the doors of the command line (issue 18): filters the
desk does not know, the --debug switch, bytes that are not UTF-8, JSON on standard input,
and what an error message repeats of the input."""

import json

import pytest

from conftest import FAULT, ids, svcdesk_process
from svcdesk.base.errors import ExitCode


@pytest.fixture
def sample(make_desk):
    return make_desk(sample=True)


def test_search_takes_all_statuses_as_its_help_says(sample, run):
    every = run("search", "卡纸", "--format", "json")
    alike = run("search", "卡纸", "--status", "all", "--format", "json")
    assert every.exit_code == alike.exit_code == 0
    assert json.loads(every.stdout) and json.loads(alike.stdout) == json.loads(every.stdout)


REFUSED = [("--status", "bogus", "closed"), ("--type", "bogus", "fault"),
           ("--assignee", "nobody", "li.qiang")]


@pytest.mark.parametrize("command, option, value, valid", [
    *[("list", *case) for case in REFUSED + [("--priority", "P9", "P1"),
                                             ("--team", "nowhere", "hardware")]],
    *[("search", *case) for case in REFUSED],
])
def test_a_filter_value_the_desk_does_not_know_is_refused_naming_the_ones_it_does(
        desk, run, command, option, value, valid):
    args = (command, "卡纸") if command == "search" else (command,)
    result = run(*args, option, value)
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert f"{option} '{value}'" in result.stderr and valid in result.stderr
    assert result.stdout == ""


def listed(run, *args) -> list:
    result = run("list", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return [t["id"] for t in json.loads(result.stdout)]


def test_filters_take_labels_and_lists_as_well_as_keys(sample, run):
    closed = listed(run, "--status", "closed")
    assert closed and listed(run, "--status", "已关闭") == closed
    both = listed(run, "--status", "closed,in_progress")
    assert set(closed) < set(both) and listed(run, "--status", "all,closed") == ids(run)


def test_debug_is_a_switch_before_the_command_not_a_word_anywhere(desk, run):
    quiet = run("show", "--debug")
    assert quiet.exit_code == ExitCode.USAGE and "Traceback" not in quiet.stderr
    assert run("comment", "1122-9", "-m", "--debug").stderr.count("Traceback") == 0
    loud = run("--debug", "show", "1122-9")
    assert loud.exit_code == ExitCode.NOT_FOUND and "Traceback" in loud.stderr


def test_arguments_that_are_not_utf8_are_refused_cleanly(desk, tmp_path):
    bad = b"x\xffy".decode("utf-8", "surrogateescape")
    assert svcdesk_process(*FAULT, "-q", cwd=desk.root).communicate(timeout=60)[0]
    proc = svcdesk_process("comment", "1122-1", "-m", bad, cwd=desk.root)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.USAGE, err
    assert "not valid UTF-8" in err and "internal error" not in err


def test_standard_input_that_is_not_utf8_is_refused_as_a_file_is(desk, tmp_path):
    (tmp_path / "in.yaml").write_bytes(b"title: \xff\n")
    for source in ("-", str(tmp_path / "in.yaml")):
        proc = svcdesk_process("new", "--from", source, "-q", cwd=desk.root,
                               stdin=open(tmp_path / "in.yaml", "rb"))
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == ExitCode.USAGE, err
        assert f"--from {source}: not UTF-8 text" in err


def test_json_with_escaped_surrogate_pairs_reads_from_standard_input_as_from_a_file(
        desk, run, tmp_path):
    text = json.dumps({"type": "inquiry", "title": "保修期多久 \U0001F600",
                       "customer": {"name": "张伟", "phone": "13800000000"},
                       "description": "想确认保修期"})  # ensure_ascii: \ud83d\ude00
    assert "\\ud83d" in text
    made = run("new", "--from", "-", "-q", "--no-auto", input=text)
    assert made.exit_code == 0, made.stderr
    (tmp_path / "in.json").write_text(text, encoding="utf-8")
    again = run("new", "--from", str(tmp_path / "in.json"), "-q", "--no-auto")
    assert again.exit_code == 0, again.stderr
    shown = [json.loads(run("show", n, "--format", "json").stdout)["title"]
             for n in (made.stdout.strip(), again.stdout.strip())]
    assert shown == ["保修期多久 \U0001F600"] * 2


def test_an_error_repeats_a_long_value_cut_short_and_never_a_password(tmp_path, run):
    huge = run("--desk", "x" * 100_000, "list")
    assert huge.exit_code == ExitCode.NO_DESK and len(huge.stderr) < 600
    secret = run("--desk", "https://li:s3cret@git.example.com/desk", "list")
    assert secret.exit_code == ExitCode.NO_DESK
    assert "s3cret" not in secret.stderr and "li:***@git.example.com" in secret.stderr


@pytest.mark.parametrize("field, value, most", [
    ("title", "标" * 201, "200"), ("customer.email", "a" * 250 + "@example.cn", "254"),
    ("description", "x" * 50_001, "50,000"), ("tags", "短,很" + "长" * 101, "100"),
])
def test_a_value_past_its_length_limit_is_refused_and_nothing_is_made(desk, run, field,
                                                                      value, most):
    from conftest import commit_count

    before = commit_count(desk.root)
    result = run(*FAULT, "--set", f"{field}={value}")
    assert result.exit_code == ExitCode.INVALID, result.stderr
    assert f"field {field}:" in result.stderr and f"at most {most}" in result.stderr
    assert commit_count(desk.root) == before


def test_values_at_their_limits_are_taken(desk, run):
    result = run(*FAULT, "--set", "title=" + "标" * 200, "--set", "tags=" + "长" * 100)
    assert result.exit_code == 0, result.stderr


def test_search_gives_csv_for_spreadsheets_defused_and_marked_utf8(desk, run):
    assert run(*FAULT, "--title", "=HYPERLINK(\"http://x\") 卡纸").exit_code == 0
    text = run("search", "卡纸", "--format", "csv").stdout
    header, row = text.splitlines()
    assert header == "\ufeffid,title,status,priority,type,assignee,score,snippet"
    assert row.startswith('SD-20261122-0001,"\'=HYPERLINK(')  # quoted: it holds quotes
    assert run("search", "卡纸", "--format", "csv", "--no-bom").stdout == text[1:]


def test_who_acts_follows_one_rule_whether_named_by_as_or_by_git(desk, run, monkeypatch):
    """An agent (by key or email) acts as the agent; an address that is no agent's acts as
    itself; anything else is refused, the same from --as, SVCDESK_AGENT or git."""
    from conftest import git

    assert run(*FAULT).exit_code == 0
    by_as = run("--as", "helper@example.com", "comment", "1122-1", "-m", "帮忙看了一下")
    assert by_as.exit_code == 0, by_as.stderr
    assert git(desk.root, "log", "-1", "--format=%ae").strip() == "helper@example.com"
    monkeypatch.delenv("SVCDESK_AGENT")
    git(desk.root, "config", "user.email", "helper@example.com")
    assert run("comment", "1122-1", "-m", "再看一下").exit_code == 0
    events = json.loads(run("show", "1122-1", "--format", "json").stdout)["events"]
    assert [e["by"] for e in events[-2:]] == ["helper@example.com"] * 2
    git(desk.root, "config", "user.email", "li.qiang@example.com")  # an agent's address
    assert run("comment", "1122-1", "-m", "我来处理").exit_code == 0
    assert json.loads(run("show", "1122-1", "--format", "json").stdout)["events"][-1]["by"] \
        == "li.qiang"
    for refused in (("--as", "nobody"), ("--as", "helper")):
        result = run(*refused, "comment", "1122-1", "-m", "x")
        assert result.exit_code == ExitCode.USAGE and "unknown agent" in result.stderr
    git(desk.root, "config", "user.email", "not-an-address")
    result = run("comment", "1122-1", "-m", "x")
    assert result.exit_code == ExitCode.USAGE and "unknown agent" in result.stderr
