"""`svcdesk server`: commands handed to a resident process behave exactly as direct runs."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from svcdesk.base import clock as any_module_it_imported
from svcdesk.adapters.lock import DeskLock

from conftest import BIN, FAULT, commit_count
from svcdesk.base.errors import ExitCode

pytestmark = pytest.mark.slow  # a real command server, forked workers

SVCDESK = str(BIN / "svcdesk")


@pytest.fixture
def runtime(monkeypatch):
    """A private runtime folder (short: socket paths are limited to 107 bytes), no server yet."""
    folder = tempfile.mkdtemp(prefix="sd-", dir="/tmp")
    monkeypatch.setenv("XDG_RUNTIME_DIR", folder)
    monkeypatch.delenv("SVCDESK_SERVER")
    yield Path(folder)
    subprocess.run([SVCDESK, "server", "stop"], capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def server(runtime):
    """A running server; yields a reader of its log lines."""
    started = sh("server", "start", "--idle", "2m")
    assert started.returncode == 0 and "started" in started.stdout, started.stderr
    log = next(runtime.glob("svcdesk-*/server-*.log"))
    return lambda: log.read_text(encoding="utf-8").splitlines()


def sh(*args, env=None, input=None, cwd=None):
    return subprocess.run([SVCDESK, *args], capture_output=True, text=True, input=input,
                          cwd=cwd, env={**os.environ, **(env or {})})


def served(log_lines) -> list:
    return [line.split("] ", 1)[1] for line in log_lines() if " exit " in line]


def direct(*args, **kwargs):
    return sh(*args, env={"SVCDESK_SERVER": "0", **kwargs.pop("env", {})}, **kwargs)


def test_served_commands_print_and_exit_exactly_as_direct_runs(desk, server):
    number = direct(*FAULT, "-q").stdout.strip()
    for args in (["list"], ["list", "--format", "csv"], ["show", number],
                 ["show", number, "--format", "json"], ["show", "SD-20990101-0001"],
                 ["show", "../../etc/passwd"], ["--version"], ["list", "--bogus"]):
        here, there = direct(*args), sh(*args)
        assert (there.returncode, there.stdout, there.stderr) == (
            here.returncode, here.stdout, here.stderr), args
    commands = served(server)
    assert len(commands) == 8 and commands[4].startswith("show exit 5")


def test_a_served_change_takes_the_callers_folder_environment_and_stdin(desk, server):
    form = "type: fault\ntitle: 打印机卡纸 😀\ncustomer: {name: 刘建国, phone: '13706751234'}\n" \
           "product: {model: LP-404 激光打印机, purchased: 2026-05-20}\n" \
           "description: 打印到第二三张就卡纸\n"
    made = sh("new", "--from", "-", "-q", input=form, cwd=desk.root / "tickets",
              env={"SVCDESK_AGENT": "chen.jing", "SVCDESK_NOW": "2026-11-20T09:00:00+08:00"})
    assert made.returncode == 0, made.stderr
    number = made.stdout.strip()
    assert number.startswith("SD-20261120-")
    shown = json.loads(sh("show", number, "--format", "json").stdout)
    assert shown["title"] == "打印机卡纸 😀"
    author = subprocess.run(["git", "log", "-1", "--format=%an <%ae>"], cwd=desk.root,
                            capture_output=True, text=True).stdout
    assert author == "陈静 <chen.jing@example.com>\n"
    assert served(server)[0].startswith("new exit 0")


def test_ctrl_c_reaches_the_worker_and_nothing_is_committed(desk, server):
    number = direct(*FAULT, "-q").stdout.strip()
    before = commit_count(desk.root)
    with DeskLock(desk.state.lock, 1, "the test"):
        client = subprocess.Popen([SVCDESK, "comment", number, "-m", "已电话回访"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)  # the worker now waits for the lock
        client.send_signal(signal.SIGINT)
        out, err = client.communicate(timeout=10)
    assert client.returncode == 130 and "Aborted." in err
    assert commit_count(desk.root) == before
    assert served(server)[-1].startswith("comment exit 130")


def test_the_server_steps_aside_when_svcdesk_changes(desk, server):
    path = Path(any_module_it_imported.__file__)
    info = path.stat()
    try:
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
        listed = sh("list")
    finally:
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert listed.returncode == 0 and not served(server)  # it ran here, not in the server
    assert "changed: exiting" in "\n".join(server())
    assert listed.stderr == ("svcdesk: the command server stopped, as svcdesk or a library it "
                             "uses changed; start it again with `svcdesk server start`\n")
    assert sh("server", "status").returncode == 1
    assert sh("list").stderr == ""  # said once: the next commands run as without a server


def test_start_twice_status_and_stop(desk, server):
    again = sh("server", "start")
    assert again.returncode == 0 and "already running" in again.stdout
    status = sh("server", "status")
    assert status.returncode == 0 and "running (pid" in status.stdout
    assert "stopped" in sh("server", "stop").stdout
    assert sh("server", "status").returncode == 1
    assert sh("list").returncode == 0 and not served(server)


def test_an_idle_server_exits_and_removes_its_socket(desk, runtime):
    assert sh("server", "start", "--idle", "1s").returncode == 0
    socket = next(runtime.glob("svcdesk-*/server-*.sock"))
    for _ in range(50):
        if not socket.exists():
            break
        time.sleep(0.1)
    assert not socket.exists() and sh("server", "status").returncode == 1


def test_a_folder_others_can_open_is_not_trusted(desk, server, runtime):
    folder = next(runtime.glob("svcdesk-*"))
    folder.chmod(0o755)
    try:
        assert sh("list").returncode == 0 and not served(server)
    finally:
        folder.chmod(0o700)
    assert sh("list").returncode == 0 and len(served(server)) == 1


def test_svcdesk_server_0_and_editor_sessions_run_here(desk, server):
    assert direct("list").returncode == 0
    assert sh("edit", "SD-20990101-0001").returncode != 0  # run here: $EDITOR wants the tty
    assert not served(server)


def test_a_bad_idle_duration_is_one_line(runtime):
    bad = sh("server", "start", "--idle", "soon")
    assert bad.returncode == 2 and bad.stderr.startswith("Error: --idle: 'soon'")


def test_served_reads_learn_what_changed_from_the_server_not_from_git(desk, server, tmp_path):
    number = direct(*FAULT, "-q").stdout.strip()
    relpath = next(desk.root.glob("tickets/*/*/*.yaml"))
    trace = tmp_path / "git.trace"

    def titles():
        trace.unlink(missing_ok=True)
        result = sh("list", "--status", "all", "--format", "json", cwd=desk.root,
                    env={"GIT_TRACE": str(trace)})
        assert result.returncode == 0, result.stderr
        return [t["title"] for t in json.loads(result.stdout)]

    def git_ran():
        return trace.exists() and "diff-index" in trace.read_text()

    for _ in range(3):  # the first asks for a watch, the second checks under it with git
        assert titles() == ["电脑无法开机故障报修"]
    assert not git_ran()  # the third needed no git at all
    text = relpath.read_text(encoding="utf-8")
    relpath.write_text(text.replace("电脑无法开机故障报修", "手工改过的标题"), encoding="utf-8")
    assert titles() == ["手工改过的标题"] and not git_ran()  # a hand edit, at once
    subprocess.run(["git", "checkout", "--", "."], cwd=desk.root, check=True)
    assert titles() == ["电脑无法开机故障报修"] and not git_ran()  # a checkout
    copy = relpath.with_name(relpath.name.replace("0001", "0002"))
    copy.write_text(text.replace(number, number[:-1] + "2"), encoding="utf-8")
    assert len(titles()) == 2 and not git_ran()  # a file git does not track yet
    copy.unlink()
    assert len(titles()) == 1 and not git_ran()  # and gone again
    made = sh("new", "--type", "inquiry", "--title", "新的咨询", "--customer", "李娜",
              "--phone", "13900000000", "--description", "保修期多久", "-q", cwd=desk.root)
    assert made.returncode == 0, made.stderr
    assert len(titles()) == 2 and not git_ran()  # a served change, read back
    later = desk.root / "tickets" / "2027" / "01"
    later.mkdir(parents=True)  # a new folder: what is in it is not known, so git looks
    (later / "SD-20270101-0001.yaml").write_text(
        text.replace(number, "SD-20270101-0001"), encoding="utf-8")
    assert len(titles()) == 3 and git_ran()
    assert len(titles()) == 3 and not git_ran()


def test_the_installed_command_imports_only_the_client_when_served(server):
    """The command's own start-up on top of Python's (and its site's: an editable install
    adds a finder) is svcdesk/launch.py and svcdesk/speed/client.py alone: no re, no
    click."""
    script = Path(SVCDESK)
    ours = Path(any_module_it_imported.__file__).parents[1] / "scripts" / "svcdesk"
    assert script.read_text(encoding="utf-8").split("\n", 1)[1] == \
        ours.read_text(encoding="utf-8").split("\n", 1)[1]  # not a wrapper that imports re

    def imported(*args):
        result = subprocess.run([str(BIN / "python"), "-X", "importtime", *args],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:") and "|" in line} - {"package"}

    extra = imported(str(script), "--version") - imported("-c", "pass")
    assert extra and extra <= {"svcdesk", "svcdesk.launch", "svcdesk.base",
                                "svcdesk.base.settings", "svcdesk.speed",
                                "svcdesk.speed.client", "zlib", "_socket", "_signal"}, extra


def test_the_server_holds_a_desks_rules_and_patterns_so_a_worker_compiles_no_regex(desk,
                                                                                 monkeypatch):
    import re._compiler

    from svcdesk.speed import rulecache
    from svcdesk.speed import server as server_module

    monkeypatch.setattr(rulecache, "_HELD", {})  # this process's holdings, put back after
    server_module._warm(str(desk.root))  # as when a worker first asks for this desk
    compiled = []
    real = re._compiler.compile
    monkeypatch.setattr(re._compiler, "compile",
                        lambda pattern, *args: compiled.append(pattern) or real(pattern, *args))
    cache = desk.root / ".git" / "svcdesk" / "rules.pickle"
    rules = rulecache.read(desk.root, cache)  # as in a worker: the rules the server holds
    assert rules is rulecache.read(desk.root, cache)
    words = [w for rule in rules.classify
             for w in (rule.keywords, rule.all_keywords, rule.not_keywords)]
    assert sum(len(w.words) for w in words) > 20
    for w in words:
        w.found("the printer jams: 打印机卡纸, error 0x0000007b")
    assert compiled == []
    text = (desk.root / "rules.yaml").read_text(encoding="utf-8")
    (desk.root / "rules.yaml").write_text(text + "\n# edited\n", encoding="utf-8")
    assert rulecache.read(desk.root, cache) is not rules  # edited: read again
    server_module._rehold([str(desk.root)])  # as the server does before the next worker
    held = rulecache.read(desk.root, cache)
    assert held is not rules and held is rulecache.read(desk.root, cache)  # held anew


@pytest.mark.parametrize("through_server", [False, True])
def test_a_closed_standard_input_reads_as_empty_served_or_not(desk, runtime, through_server):
    """`new --from - <&-`: the client's socket would take descriptor 0 and become the
    command's input (a hang); run directly, stdin was None (an internal error)."""
    if through_server:
        assert sh("server", "start", "--idle", "2m").returncode == 0
    env = {} if through_server else {"SVCDESK_SERVER": "0"}
    done = subprocess.run(["sh", "-c", f'exec "{SVCDESK}" new --from - <&-'], cwd=desk.root,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == ExitCode.INVALID, done.stderr
    assert "missing required field(s)" in done.stderr and "internal error" not in done.stderr
    closed_out = subprocess.run(["sh", "-c", f'exec "{SVCDESK}" list >&-'], cwd=desk.root,
                                env={**os.environ, **env}, capture_output=True, timeout=60)
    assert closed_out.returncode == 0


def test_a_worker_that_dies_after_its_commit_is_not_taken_for_a_change_never_made(
        desk, server, runtime, tmp_path):
    """The client used to say "run the command again" whenever its worker died: after the
    commit that would make the change twice. The worker tells it of the commit."""
    from conftest import git, jd_csv, jd_row

    # an import whose report (printed after its commit) is more than a pipe holds: the
    # worker waits on it, as the client does not read, and is killed there
    export = jd_csv(tmp_path / "jd.csv", [jd_row(str(500000 + i)) for i in range(1500)])
    before = git(desk.root, "rev-parse", "HEAD").strip()
    client = subprocess.Popen([SVCDESK, "import", str(export)],
                              cwd=desk.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    deadline = time.monotonic() + 30
    while git(desk.root, "rev-parse", "HEAD").strip() == before and \
            time.monotonic() < deadline:
        time.sleep(0.01)  # until the commit lands; the report is printed after it
    server_pid = int(next(runtime.glob("svcdesk-*/server-*.pid")).read_text().split()[0])
    workers = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
               and _parent(p) == server_pid]
    assert workers, "the worker ended before it could be killed"
    deadline = time.monotonic() + 10  # and until it waits on the report's full pipe: it has
    while time.monotonic() < deadline and not any(  # told the client of its commit by then
            "pipe_write" in _wchan(pid) for pid in workers):
        time.sleep(0.01)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    out, err = client.communicate(timeout=30)
    assert client.returncode == 1
    assert "after its change was committed" in err and "do not run the command" in err
    assert "ended without finishing" not in err
    assert commit_count(desk.root) == int(git(desk.root, "rev-list", "--count", before)) + 1
    assert git(desk.root, "log", "-1", "--format=%s").startswith("import 1500 tickets")


def _wchan(pid: int) -> str:
    """What the process waits on in the kernel ("anon_pipe_write": a full pipe)."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


def _parent(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
