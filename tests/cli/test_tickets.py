"""The ticket commands as a user runs them: new, show, list, edit, comment, log, fields."""

import json
import os
import stat
import sys

import yaml

from svcdesk.base.errors import ExitCode

from conftest import FAULT, commit_count, git, head_files

TICKET = "tickets/2026/11/SD-20261122-0001.yaml"


# ---- new -------------------------------------------------------------------------------------

def test_new_prints_the_id_and_commits_exactly_the_ticket_file(desk, run):
    before = commit_count(desk.root)
    (desk.root / "notes.txt").write_text("unrelated work in progress")
    git(desk.root, "add", "notes.txt")
    result = run(*FAULT, "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "SD-20261122-0001\n"
    assert commit_count(desk.root) == before + 1
    changed = git(desk.root, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == [TICKET]
    assert "notes.txt" not in head_files(desk.root)
    assert git(desk.root, "status", "--porcelain") == "A  notes.txt\n"


def test_new_commit_has_subject_body_trailers_and_the_agent_as_author(desk, run):
    run(*FAULT, "--channel", "phone")
    message = git(desk.root, "log", "-1", "--format=%an <%ae>%n%B")
    lines = message.splitlines()
    assert lines[0] == "王芳 <wang.fang@example.com>"
    assert lines[1] == "SD-20261122-0001: new fault ticket: 电脑无法开机故障报修"
    assert "Type: fault (故障报修)" in message and "Channel: phone" in message
    assert git(desk.root, "log", "-1", "--format=%(trailers:key=Svcdesk-Ticket,valueonly)"
               ).strip() == "SD-20261122-0001"
    assert git(desk.root, "log", "-1", "--format=%(trailers:key=Svcdesk-Action,valueonly)"
               ).strip() == "create"


def test_numbers_follow_the_day_in_the_desks_timezone(desk, run, monkeypatch):
    assert run(*FAULT, "-q").stdout.strip() == "SD-20261122-0001"
    assert run(*FAULT, "-q").stdout.strip() == "SD-20261122-0002"
    # 23:30 UTC on the 22nd is already the 23rd in Shanghai
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-22T23:30:00+00:00")
    assert run(*FAULT, "-q").stdout.strip() == "SD-20261123-0001"


def test_a_number_deleted_by_hand_or_a_stray_copy_is_never_taken_again(desk, run):
    for _ in range(3):
        run(*FAULT)
    (desk.root / "tickets/2026/11/SD-20261122-0003.yaml").unlink()  # deleted, not committed
    copy = desk.root / "tickets/2026/11/SD-20261122-0002 副本.yaml"
    copy.write_bytes((desk.root / "tickets/2026/11/SD-20261122-0002.yaml").read_bytes())
    result = run(*FAULT, "-q")
    assert result.exit_code == 0 and result.stdout.strip() == "SD-20261122-0004"


def test_new_takes_every_field_by_set_and_nested_paths(desk, run):
    result = run(*FAULT, "--set", "customer.email=zhang@例子.cn", "--set", "customer.tier=vip",
                 "--set", "product.serial=PF2ABCDE", "--set", "frequency=always",
                 "--set", "tags=屏幕,主板", "--priority", "P2", "--expected", "维修", "-q")
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load((desk.root / TICKET).read_text(encoding="utf-8"))
    assert data["customer"]["email"] == "zhang@例子.cn"
    assert data["customer"]["tier"] == "vip"
    assert data["expected"] == "repair"
    assert data["priority"] == "P2" and data["tags"] == ["屏幕", "主板"]
    assert data["product"]["warranty"] == "in"


def test_new_from_a_yaml_or_json_file(desk, run, tmp_path):
    form = tmp_path / "req.yaml"
    form.write_text("type: invoice\ntitle: 开具增值税专用发票\ncustomer:\n  company: 宁波港联物流\n"
                    "product:\n  order_no: JD123\ninvoice:\n  title: 宁波港联物流有限公司\n"
                    "  tax_id: 91330200MA2XXXXXXX\n  amount: '12800.00'\n", encoding="utf-8")
    assert run("new", "--from", form, "-q").exit_code == 0
    as_json = tmp_path / "req.json"
    as_json.write_text(json.dumps({"type": "inquiry", "title": "保修期多久",
                                   "customer": {"name": "Emily"}, "description": "How long?"}),
                       encoding="utf-8")
    assert run("new", "--from", as_json, "-q").stdout.strip() == "SD-20261122-0002"
    listed = json.loads(run("list", "--format", "json").stdout)
    assert {t["type"] for t in listed} == {"invoice", "inquiry"}


def test_missing_required_fields_without_a_terminal_fail_and_change_nothing(desk, run):
    before = commit_count(desk.root)
    result = run("new", "--type", "fault", "--title", "无法开机", "--customer", "张伟", input="")
    assert result.exit_code == ExitCode.INVALID
    assert result.stderr.startswith("Error: missing required field(s) for type 'fault': "
                                    "customer.phone, product.model, product.purchased")
    assert len(result.stderr.splitlines()) == 1
    assert commit_count(desk.root) == before
    assert not (desk.root / "tickets/2026").exists()


def test_new_without_a_type_and_without_the_rules_is_refused(desk, run):
    result = run("new", "--no-auto", "--title", "x")
    assert result.exit_code == ExitCode.INVALID and "'?': type" in result.stderr


def test_new_names_the_fields_the_classified_type_still_needs(desk, run):
    result = run("new", "--title", "发票抬头开错了", "--description", "需要红冲重开")
    assert result.exit_code == ExitCode.INVALID
    assert "type 'invoice'" in result.stderr and "invoice.tax_id" in result.stderr


def test_bad_values_fail_with_one_line_naming_the_field(desk, run):
    cases = [
        (("--set", "customer.phon=1"), "customer.phon: unknown field (did you mean customer.phone?"),
        (("--phone", "12345"), "customer.phone: '12345' is too short"),
        (("--purchased", "2026-02-30"), "product.purchased: '2026-02-30' is not a real date"),
        (("--set", "customer.email=not-an-email"), "customer.email: 'not-an-email' is not an email"),
        (("--priority", "P9"), "priority: 'P9' is not one of P1"),
        (("--set", "status=closed"), "status: is kept by svcdesk"),
        (("--set", "novalue"), "'novalue' is not FIELD=VALUE"),
    ]
    for extra, message in cases:
        result = run(*FAULT, *extra)
        assert result.exit_code in (ExitCode.INVALID, ExitCode.USAGE), (extra, result.stderr)
        assert message in result.stderr, (extra, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (desk.root / "tickets/2026").exists()


def test_chinese_emoji_and_rtl_text_round_trip_byte_for_byte(desk, run):
    title = "屏幕闪烁 😀 — שלום مرحبا"
    description = "第一行：错误代码 0x7B\n  缩进的第二行 🔧\nעברית בסוף\n"
    assert run(*FAULT[:-2], "--title", title, "--description", description).exit_code == 0
    shown = json.loads(run("show", "1122-1", "--format", "json").stdout)
    assert shown["title"] == title and shown["description"] == description
    raw = (desk.root / TICKET).read_text(encoding="utf-8")
    assert "屏幕闪烁 😀" in raw  # readable in git diff, not \u-escaped


# ---- show / list -------------------------------------------------------------------------------

def test_show_reads_well_and_has_the_timeline(desk, run):
    run(*FAULT, "--channel", "phone")
    run("comment", "20261122-1", "-m", "已远程排查，确认主板故障")
    result = run("show", "sd-20261122-0001")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("SD-20261122-0001  电脑无法开机故障报修\n")
    assert "状态 派工中 (assigned)" in out and "优先级 P3 一般" in out and "故障报修" in out
    assert "自动分类 (rule: 电脑, 故障-错误代码)" in out and "处理人 李强" in out
    assert "联系电话  13800000000" in out and "保修状态  保内 (in)" in out
    assert out.index("创建工单") < out.index("已远程排查，确认主板故障")
    assert "\x1b[" not in out


def test_show_yaml_is_the_file_and_json_has_the_events(desk, run):
    run(*FAULT)
    assert run("show", "1122-1", "--format", "yaml").stdout == \
        (desk.root / TICKET).read_text(encoding="utf-8")
    data = json.loads(run("show", "1122-1", "--format", "json").stdout)
    assert data["events"][0]["action"] == "create" and data["id"] == "SD-20261122-0001"


def test_list_and_show_give_a_ticket_in_one_json_shape_with_numbers_as_numbers(desk, run):
    run(*FAULT)
    run("--as", "li.qiang", "resolve", "1122-1", "-m", "已修好")
    run("close", "1122-1", "--csat", "4")
    listed = json.loads(run("list", "--status", "all", "--format", "json").stdout)[0]
    shown = json.loads(run("show", "1122-1", "--format", "json").stdout)
    assert listed["sla"] == shown["sla"]
    assert {k: v for k, v in shown.items()
            if k not in ("events", "clocks", "provisional", "conflicts")} == listed
    assert listed["csat"] == 4 and isinstance(listed["sla"]["resolution_minutes"], int)
    assert listed["sla"]["resolution_state"] == "met"
    closing = next(e for e in shown["events"] if e["action"] == "close")
    assert closing["changes"]["csat"] == {"to": 4}
    assert shown["clocks"]["resolution"]["state"] == "met"
    assert shown["clocks"]["resolution"]["target_minutes"] == listed["sla"]["resolution_minutes"]


def test_show_of_a_missing_or_ambiguous_ticket(desk, run, monkeypatch):
    assert run("show", "SD-20261122-0009").exit_code == ExitCode.NOT_FOUND
    run(*FAULT)
    monkeypatch.setenv("SVCDESK_NOW", "2026-10-22T10:00:00+08:00")
    run(*FAULT)
    result = run("show", "22-1")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "matches 2 tickets" in result.stderr


def test_list_cut_by_limit_says_how_many_there_are(make_desk, run):
    make_desk(sample=True)
    total = len(json.loads(run("list", "--format", "json").stdout))
    assert total > 2
    assert run("list", "--limit", "2").stdout.splitlines()[-1] == f"共 {total} 个工单，显示 2 个"
    assert run("list", "--limit", str(total)).stdout.splitlines()[-1] == f"共 {total} 个工单"
    assert len(json.loads(run("list", "--limit", "2", "--format", "json").stdout)) == 2


def test_list_aligns_chinese_columns(make_desk, run):
    make_desk(sample=True)
    result = run("list", "--status", "all", "--limit", "12")
    assert result.exit_code == 0, result.stderr
    from wcwidth import wcswidth

    rows = result.stdout.splitlines()[2:-1]
    header, rule = result.stdout.splitlines()[:2]
    starts = [i for i, ch in enumerate(rule) if ch == "-" and (i == 0 or rule[i - 1] == " ")]
    for row in rows:
        # every column starts at the same display column as the header's rule
        for start in starts[1:]:
            prefix_width = 0
            for j, ch in enumerate(row):
                if prefix_width >= start:
                    assert row[j - 1] == " ", row
                    break
                prefix_width += wcswidth(ch)
    assert all(wcswidth(r) <= wcswidth(rule) for r in rows)


def test_list_filters_sorts_and_formats(make_desk, run):
    make_desk(sample=True)
    everything = json.loads(run("list", "--status", "all", "--format", "json").stdout)
    assert len(everything) == 40
    assert len({t["type"] for t in everything}) == 6
    default = json.loads(run("list", "--format", "json").stdout)
    assert default and all(t["status"] != "closed" for t in default)
    faults = json.loads(run("list", "--status", "all", "--type", "fault", "--format",
                            "json").stdout)
    assert faults and all(t["type"] == "fault" for t in faults)
    oldest = json.loads(run("list", "--status", "all", "--asc", "--limit", "3", "--format",
                            "json").stdout)
    assert [t["created"] for t in oldest] == sorted(t["created"] for t in oldest)
    assert oldest[0]["created"] == min(t["created"] for t in everything)
    text = json.loads(run("list", "--status", "all", "--text", "卡纸", "--format", "json").stdout)
    assert text and all("卡纸" in t["title"] + t.get("description", "") for t in text)
    csv_out = run("list", "--status", "all", "--format", "csv", "--limit", "2").stdout
    assert csv_out.splitlines()[0].startswith("\ufeffid,uid,title,type")
    assert len(csv_out.splitlines()) == 3
    bare = run("list", "--status", "all", "--format", "csv", "--limit", "2", "--no-bom").stdout
    assert bare == csv_out[1:]
    as_yaml = yaml.safe_load(run("list", "--status", "closed", "--format", "yaml").stdout)
    assert as_yaml and all(t["status"] == "closed" for t in as_yaml)
    since = json.loads(run("list", "--status", "all", "--since", "2026-11-15", "--format",
                           "json").stdout)
    assert since and all(t["created"] >= "2026-11-15" for t in since)


def test_list_reports_an_unreadable_ticket_and_still_shows_the_others(desk, run):
    run(*FAULT)
    run(*FAULT)
    broken = desk.root / "tickets/2026/11/SD-20261122-0002.yaml"
    broken.write_text("id: SD-20261122-0002\ntitle: [oops\n", encoding="utf-8")
    result = run("list")
    assert result.exit_code == ExitCode.TICKET_FILE
    assert "SD-20261122-0001" in result.stdout and "SD-20261122-0002" not in result.stdout
    assert "tickets/2026/11/SD-20261122-0002.yaml:3: not valid YAML" in result.stderr
    assert "1 ticket file(s) could not be read" in result.stderr


# ---- comment / edit / log -------------------------------------------------------------------------

def test_a_commit_that_fails_puts_back_the_files_and_gits_index(desk, run, monkeypatch):
    from svcdesk.adapters import repo
    from svcdesk.base.errors import GitError

    assert run(*FAULT).exit_code == 0
    before = (git(desk.root, "rev-parse", "HEAD"), head_files(desk.root))

    def refuse(*_):
        raise GitError("git fast-import failed: injected")

    monkeypatch.setattr(repo.Git, "import_commits", refuse)
    result = run("comment", "20261122-1", "-m", "不会留下")
    assert result.exit_code != 0 and "injected" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (git(desk.root, "rev-parse", "HEAD"), head_files(desk.root)) == before
    assert git(desk.root, "status", "--porcelain") == ""  # files and index as HEAD has them
    monkeypatch.undo()
    assert "不会留下" not in run("show", "20261122-1").stdout


def object_counts(root) -> tuple:
    """(loose objects, packs) of the desk's repository."""
    counts = dict(line.split(": ") for line in git(root, "count-objects", "-v").splitlines())
    return int(counts["count"]), int(counts["packs"])


def test_changes_leave_garbage_collection_to_git_when_git_would_find_it_due(desk, run,
                                                                           monkeypatch):
    from svcdesk.adapters import repo

    git(desk.root, "config", "gc.autoDetach", "false")  # so the test need not wait for it
    git(desk.root, "config", "gc.autoPackLimit", "1")
    assert run(*FAULT).exit_code == 0
    git(desk.root, "repack", "-a", "-d")
    assert run("comment", "20261122-1", "-m", "已电话回访").exit_code == 0
    assert object_counts(desk.root)[1] == 2
    assert not repo.Git(desk.root).collect_garbage()  # not due by git's estimate
    monkeypatch.setattr(repo, "GC_PACKS", 1)  # due: git is asked, and packs everything
    assert run("comment", "20261122-1", "-m", "客户确认已修好").exit_code == 0
    assert object_counts(desk.root) == (0, 1)
    assert "客户确认已修好" in run("show", "20261122-1").stdout
    git(desk.root, "fsck", "--no-progress")


def test_comment_appends_one_event_and_one_commit(desk, run):
    run(*FAULT)
    before = commit_count(desk.root)
    assert run("comment", "1122-1", "-m", "已电话联系客户").exit_code == 0
    assert run("comment", "1122-1", "-m", "备件缺货", "--internal").exit_code == 0
    assert commit_count(desk.root) == before + 2
    data = json.loads(run("show", "1122-1", "--format", "json").stdout)
    assert [(e["action"], e.get("visibility"), e.get("note")) for e in data["events"][-2:]] == [
        ("comment", "public", "已电话联系客户"), ("comment", "internal", "备件缺货")]
    assert git(desk.root, "status", "--porcelain") == ""


def write_editor(tmp_path, script: str) -> str:
    path = tmp_path / "editor.py"
    path.write_text(f"import sys\np = sys.argv[1]\ntext = open(p, encoding='utf-8').read()\n"
                    f"{script}\nopen(p, 'w', encoding='utf-8').write(text)\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return f"{sys.executable} {path}"


def test_edit_records_the_changed_fields_as_one_event(desk, run, tmp_path, monkeypatch):
    run(*FAULT)
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, "text = text.replace('13800000000', "
                                                        "'13900000000')"))
    result = run("edit", "1122-1")
    assert result.exit_code == 0, result.stderr
    data = json.loads(run("show", "1122-1", "--format", "json").stdout)
    assert data["customer"]["phone"] == "13900000000"
    assert data["events"][-1]["action"] == "edit"
    assert data["events"][-1]["changes"] == {"customer.phone": {"from": "13800000000",
                                                               "to": "13900000000"}}


def test_a_bad_edit_changes_nothing_and_keeps_the_text(desk, run, tmp_path, monkeypatch):
    run(*FAULT)
    before = (desk.root / TICKET).read_bytes()
    commits = commit_count(desk.root)
    for script, message in [
        ("text = text.replace('13800000000', 'not-a-phone')", "customer.phone"),
        ("text = text + 'colour: red\\n'", "colour: unknown field"),
        ("text = text.replace('title:', 'title: [')", "not valid YAML"),
    ]:
        monkeypatch.setenv("EDITOR", write_editor(tmp_path, script))
        result = run("edit", "1122-1")
        assert result.exit_code != 0 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert (desk.root / TICKET).read_bytes() == before
    assert commit_count(desk.root) == commits


def test_log_shows_when_who_what_and_commit(desk, run):
    run(*FAULT)
    run("comment", "1122-1", "-m", "已远程排查")
    entries = json.loads(run("log", "1122-1", "--format", "json").stdout)
    assert [e["action"] for e in entries] == ["comment", "create"]
    assert entries[0]["author"] == "王芳" and len(entries[0]["commit"]) == 40
    assert entries[0]["subject"] == "SD-20261122-0001: comment: 已远程排查"
    table = run("log", "1122-1").stdout
    assert "comment" in table and entries[0]["commit"][:10] in table


def test_fields_lists_what_each_type_requires(desk, run):
    data = json.loads(run("fields", "--type", "invoice", "--format", "json").stdout)
    required = {r["field"] for r in data if r["required_by"]}
    assert {"invoice.tax_id", "invoice.title", "product.order_no"} <= required


# ---- hand edits ----------------------------------------------------------------------------------

def test_an_uncommitted_hand_edit_is_not_overwritten(desk, run):
    run(*FAULT)
    path = desk.root / TICKET
    path.write_text(path.read_text(encoding="utf-8").replace("张伟", "张三", 1), encoding="utf-8")
    edited = path.read_bytes()
    result = run("comment", "1122-1", "-m", "x")
    assert result.exit_code == ExitCode.CONFLICT
    assert "has changes that are not committed" in result.stderr
    assert "git checkout -- tickets/2026/11/SD-20261122-0001.yaml" in result.stderr
    assert path.read_bytes() == edited
    # the refused change let go of git's index as it found it: the person can commit by hand
    assert not (desk.root / ".git" / "index.lock").exists()
    assert git(desk.root, "status", "--porcelain") == f" M {TICKET}\n"
    git(desk.root, "add", TICKET)


def test_a_committed_hand_edit_is_recorded_as_an_event(desk, run):
    run(*FAULT, "--no-auto")
    path = desk.root / TICKET
    path.write_text(path.read_text(encoding="utf-8").replace("张伟", "张三", 1), encoding="utf-8")
    git(desk.root, "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qam", "fix name")
    assert run("comment", "1122-1", "-m", "已联系").exit_code == 0
    data = json.loads(run("show", "1122-1", "--format", "json").stdout)
    actions = [e["action"] for e in data["events"]]
    assert actions == ["create", "hand-edit", "comment"]
    assert data["events"][1]["changes"] == {"customer.name": {"from": "张伟", "to": "张三"}}
    assert data["customer"]["name"] == "张三"


# ---- global behaviour -----------------------------------------------------------------------------

def test_desk_discovery_by_option_env_and_upward_search(desk, run, tmp_path, monkeypatch):
    (desk.root / "tickets" / "sub").mkdir()
    monkeypatch.chdir(desk.root / "tickets" / "sub")
    assert run(*FAULT, "-q").exit_code == 0
    monkeypatch.chdir(tmp_path)
    assert run("show", "1122-1").exit_code == ExitCode.NO_DESK
    assert run("--desk", desk.root, "show", "1122-1").exit_code == 0
    monkeypatch.setenv("SVCDESK_DESK", str(desk.root))
    assert run("show", "1122-1").exit_code == 0


def test_the_agent_comes_from_as_env_or_git_email(desk, run, monkeypatch):
    assert run("--as", "li.qiang", *FAULT).exit_code == 0
    assert git(desk.root, "log", "-1", "--format=%an").strip() == "李强"
    assert run("--as", "nobody", *FAULT).exit_code == ExitCode.USAGE
    monkeypatch.delenv("SVCDESK_AGENT")
    git(desk.root, "config", "user.email", "Zhao.Min@example.com")
    assert run(*FAULT).exit_code == 0
    assert git(desk.root, "log", "-1", "--format=%an").strip() == "赵敏"
    git(desk.root, "config", "user.email", "helper@partner.example")  # not an agent
    git(desk.root, "config", "user.name", "外包 小李")
    git(desk.root, "config", "--add", "user.name", "外包 李工")  # git takes the last
    assert run(*FAULT).exit_code == 0
    assert git(desk.root, "log", "-1", "--format=%an <%ae>").strip() == \
        "外包 李工 <helper@partner.example>"
    git(desk.root, "config", "--unset", "user.email")
    result = run(*FAULT)
    assert result.exit_code == ExitCode.USAGE and "who is acting" in result.stderr


def test_debug_shows_a_traceback_and_errors_otherwise_are_one_line(desk, run):
    plain = run("show", "SD-20261122-0009")
    assert plain.stderr == "Error: no ticket SD-20261122-0009\n"
    debug = run("--debug", "show", "SD-20261122-0009")
    assert "Traceback" in debug.stderr and debug.exit_code == ExitCode.NOT_FOUND


def test_malformed_ids_never_reach_a_path(desk, run):
    for bad in ("../../etc/passwd", "", "SD-20261122-0001/../../x"):
        result = run("show", bad)
        assert result.exit_code == ExitCode.USAGE, bad
        assert "is not a ticket ID" in result.stderr
        assert len(result.stderr.splitlines()) == 1
    result = run("show", "-rf")
    assert result.exit_code == ExitCode.USAGE and len(result.stderr.splitlines()) == 1
    result = run("show", "--", "-rf")
    assert result.exit_code == ExitCode.USAGE and "'-rf' is not a ticket ID" in result.stderr


def test_a_bad_rules_file_is_refused_with_file_line_and_key(make_desk, run):
    desk = make_desk()
    rules = desk.root / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("  prefix: SD",
                                                               "  prefix: SD\n  colour: red"),
                     encoding="utf-8")
    result = run("list")
    assert result.exit_code == ExitCode.RULES
    assert result.stderr.startswith(f"Error: {rules}:8: desk.colour: unknown key 'colour'")


def test_no_color_and_no_terminal_mean_no_escape_codes(make_desk, run, monkeypatch):
    make_desk(sample=True)
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" not in run("list").stdout  # not a terminal
    assert os.environ.get("NO_COLOR") is None


def test_a_committed_ticket_that_is_not_utf8_is_a_file_error_not_a_crash(desk, run,
                                                                        monkeypatch):
    monkeypatch.setenv("EDITOR", "true")
    run(*FAULT)
    path = desk.root / TICKET
    path.write_bytes(path.read_bytes().replace("张伟".encode(), "张伟".encode("gb18030")))
    git(desk.root, "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qam", "gbk")
    for args in (("comment", "1122-1", "-m", "x"), ("show", "1122-1"), ("edit", "1122-1")):
        result = run(*args)
        assert result.exit_code == ExitCode.TICKET_FILE, (args, result.stderr)
        assert f"{TICKET}: not UTF-8 text" in result.stderr


def test_new_edit_shows_the_form_for_the_type_the_rules_decide(desk, run, tmp_path,
                                                             monkeypatch):
    seen = tmp_path / "form.txt"
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, (
        f"open({str(seen)!r}, 'w', encoding='utf-8').write(text)\n"
        "text = 'title: 需要开增值税专用发票\\ncustomer:\\n  name: 李娜\\n  company: 宁波港联\\n"
        "product:\\n  order_no: JD1\\ninvoice:\\n  title: 宁波港联\\n  tax_id: \\'9133\\'\\n"
        "  amount: \\'100.00\\'\\n'")))
    result = run("new", "--edit", "--title", "需要开增值税专用发票", "--customer", "李娜")
    assert "Required for this type: title, customer.company" in seen.read_text(encoding="utf-8")
    assert result.exit_code == 0, result.stderr
    data = json.loads(run("show", "1122-1", "--format", "json").stdout)
    assert data["type"] == "invoice" and data["invoice"]["tax_id"] == "9133"
