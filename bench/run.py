"""Time svcdesk's main commands on benchmark desks, side by side: python bench/run.py DESK...

Each command runs --runs times per desk, interleaved across desks so machine noise falls on
all of them alike; the table shows medians in ms, with references (python start-up, the
imports every command pays) measured in the same run. With --compare BIN, a second
installation (another commit's, say) is timed in the same run on a copy of each desk
(DESK-compare, made once), and the table gives this installation's time over that one's.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent
SVCDESK = str(BIN / "svcdesk")

NEW = ["new", "--type", "fault", "--title", "打印机卡纸", "--customer", "刘建国", "--phone",
       "13706751234", "--product", "LP-404 激光打印机", "--purchased", "2026-05-20",
       "--description", "打印到第二三张就卡纸", "-q"]


def some_tickets(desk: Path) -> tuple[str, str]:
    """Two older tickets of the desk (its files, not the index, decide): one to show and log,
    and one to comment on. The second differs from run to run (every run adds tickets with
    `new`), so no ticket gathers the comments of every run and makes `show`, `comment` and
    `log` slower than on a real desk."""
    months = sorted((desk / "tickets").glob("*/*"))
    files = sorted(months[len(months) // 2].glob("*.yaml"))
    shown = len(files) // 2
    total = sum(1 for _ in desk.glob("tickets/*/*/*.yaml"))
    commented = (shown + 1 + total % max(len(files) - 1, 1)) % len(files)
    return files[shown].stem, files[commented].stem


def short(number: str) -> str:
    """A unique end of a ticket number (MMDD-N), which only the index can resolve."""
    _, day, seq = number.split("-")
    return f"{day[2:]}-{int(seq)}"


def cases(desk: Path, bin_dir: Path = BIN):
    ticket, other = some_tickets(desk)
    python, sd = str(bin_dir / "python"), str(bin_dir / "svcdesk")
    return [
        ("python -c pass (reference)", [python, "-c", "pass"]),
        ("import click, yaml (reference)", [python, "-c", "import click, yaml"]),
        ("svcdesk --version", [sd, "--version"]),
        ("svcdesk new", [sd, *NEW]),
        ("svcdesk show ID", [sd, "show", ticket]),
        ("svcdesk show ID (short: index)", [sd, "show", short(ticket)]),
        ("svcdesk comment ID", [sd, "comment", other, "-m", "已电话回访"]),
        ("svcdesk log ID", [sd, "log", ticket]),
        ("git status (reference)", ["git", "status", "--porcelain"]),
        ("svcdesk list (open, table)", [sd, "list"]),
        ("svcdesk list --limit 20", [sd, "list", "--limit", "20"]),
        ("svcdesk search 卡纸 (2 chars)", [sd, "search", "卡纸"]),
        ("svcdesk search 打印机", [sd, "search", "打印机"]),
        ("svcdesk search printer jam", [sd, "search", "printer", "jam"]),
        *[(f"svcdesk report weekly --format {fmt}",
           [sd, "report", "weekly", "--week", "2026-W47", "--format", fmt])
          for fmt in ("md", "html", "json", "csv")],
    ]


COLD_REFERENCE = """
import sys, yaml
from pathlib import Path
for path in sorted(Path(sys.argv[1]).glob("tickets/*/*/*.yaml")):
    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
"""


def tree_peak_rss(proc) -> int:
    """Sample the resident memory of ``proc`` and its children until it ends; peak in KB."""
    peak = 0
    while proc.poll() is None:
        total = 0
        for pid in _tree(proc.pid):
            try:
                with open(f"/proc/{pid}/status") as f:
                    total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
            except (OSError, StopIteration):
                pass
        peak = max(peak, total)
        time.sleep(0.05)
    return peak


def _tree(root: int) -> list:
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def cold(desks, runs: int) -> None:
    """Cold index builds (the index deleted first), with the tree's peak memory."""
    from tabulate import tabulate

    rows = []
    for d in desks:
        index = d / ".git" / "svcdesk" / "index.sqlite"
        times, peaks = [], []
        for _ in range(runs):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{index}{suffix}").unlink(missing_ok=True)
            started = time.perf_counter()
            proc = subprocess.Popen([SVCDESK, "index", "rebuild"], cwd=d,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            peaks.append(tree_peak_rss(proc))
            times.append(time.perf_counter() - started)
            if proc.returncode != 0:
                raise SystemExit(f"index rebuild failed in {d}: {proc.stderr.read().decode()}")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", COLD_REFERENCE, str(d)], check=True)
        reference = time.perf_counter() - started
        rows.append([d.name, f"{statistics.median(times):.1f}",
                     f"{max(peaks) / 1024:.0f}", f"{reference:.1f}",
                     f"{statistics.median(times) / reference:.2f}",
                     f"{index.stat().st_size / 2**20:.0f}"])
    print(tabulate(rows, headers=["desk", "cold build s", "peak MB (all processes)",
                                  "CSafeLoader alone, 1 core s", "ratio", "index MB"],
                   disable_numparse=True))


SLA_BASE = "refs/bench/sla-base"
TABLE_BASE = "refs/bench/table-base"


def sla(desks, runs: int, busy: int) -> None:
    """`sla check` with nothing due, and with about ``busy`` tickets due (one commit each
    run, the desk put back to the same state before every run)."""
    from datetime import datetime, timedelta

    from tabulate import tabulate

    now = datetime.fromisoformat(os.environ.get("SVCDESK_NOW", "2026-11-22T10:03:00+08:00"))
    rows = []
    for d in desks:
        env = {**os.environ, "SVCDESK_NOW": now.isoformat()}
        subprocess.run([SVCDESK, "sla", "check"], cwd=d, env=env, capture_output=True)
        subprocess.run(["git", "update-ref", SLA_BASE, "HEAD"], cwd=d, check=True)
        quiet = [timed([SVCDESK, "sla", "check"], d, env) for _ in range(runs)]

        def due_at(minutes):
            out = subprocess.run([SVCDESK, "sla", "check", "--dry-run", "--format", "json"],
                                 cwd=d, env={**env, "SVCDESK_NOW": (
                                     now + timedelta(minutes=minutes)).isoformat()},
                                 capture_output=True, text=True).stdout
            return len({s["ticket"] for s in json.loads(out)["steps"]})

        low, high = 0, 30
        while due_at(high) < busy and high < 60 * 24 * 60:  # doubling, then halving
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if due_at(middle) < busy else (low, middle)
        opened = subprocess.run([SVCDESK, "list", "--format", "json"], cwd=d, env=env,
                                capture_output=True, text=True).stdout
        quiet_ms = f"{statistics.median(quiet):.0f}"
        # tickets fall due in bunches (a working day ends at 18:00 for all of them): time
        # the last moment with fewer than ``busy`` due and the first with as many or more
        for minutes in (low, high):
            later = now + timedelta(minutes=minutes)
            due = due_at(minutes)
            if not due:
                continue
            busy_env = {**env, "SVCDESK_NOW": later.isoformat()}
            times = []
            for _ in range(runs):
                reset(d, busy_env)
                times.append(timed([SVCDESK, "sla", "check"], d, busy_env))
            reset(d, env)
            rows.append([d.name, len(json.loads(opened)), quiet_ms, due,
                         later.strftime("%m-%d %H:%M"), f"{statistics.median(times):.0f}"])
    print(tabulate(rows, headers=["desk", "open tickets", "sla check, nothing due ms",
                                  "tickets due", "at", "sla check, those due ms"],
                   disable_numparse=True))
    print(f"\n{runs} runs each (medians); {os.cpu_count()} cores; {sys.executable}")


def sync_bench(desks, runs: int) -> None:
    """`svcdesk sync` bringing in one change and sending one, against `git pull --rebase &&
    git push` of the same on the same desk; and `new` on a desk that syncs by itself against
    a plain `new` followed by that git round trip. Clones are copies of each desk (made once
    under DESK-sync/, with their remotes), another clone pushing one change before each
    timed run."""
    from tabulate import tabulate

    env = {**os.environ, "SVCDESK_SERVER": "0"}
    rows = []
    for d in desks:
        home = d.with_name(d.name + "-sync")
        clones = _sync_clones(d, home, env)
        x, y, z, w, v = (clones[k] for k in ("x", "y", "z", "w", "v"))
        ticket, other = some_tickets(x)
        times = {k: [] for k in ("sync", "git", "auto new", "new + git")}
        for run in range(runs + 1):  # the first run warms caches and is not counted
            note = ["-m", f"bench {run}"]

            def incoming(pusher):  # another clone's change reaches the remote first
                timed([SVCDESK, "comment", other, *note], pusher, env)
                timed(["sh", "-c", "git pull -q --rebase && git push -q"], pusher, env)

            incoming(y)
            timed([SVCDESK, "comment", ticket, *note], x, env)
            took = {"sync": timed([SVCDESK, "sync"], x, env)}
            incoming(y)
            timed([SVCDESK, "comment", ticket, *note], z, env)
            took["git"] = timed(["sh", "-c", "git pull -q --rebase && git push -q"], z, env)
            incoming(v)
            took["auto new"] = timed([SVCDESK, *NEW], w, env)
            incoming(y)
            started = time.perf_counter()
            timed([SVCDESK, *NEW], z, env)
            timed(["sh", "-c", "git pull -q --rebase && git push -q"], z, env)
            took["new + git"] = (time.perf_counter() - started) * 1000
            if run:
                for key, ms in took.items():
                    times[key].append(ms)
        m = {k: statistics.median(v) for k, v in times.items()}
        count = sum(1 for _ in (x / "tickets").glob("*/*/*.yaml"))
        rows.append([f"{d.name} ({count:,} tickets)", f"{m['sync']:.0f}", f"{m['git']:.0f}",
                     f"{m['sync'] / m['git']:.2f}", f"{m['auto new']:.0f}",
                     f"{m['new + git']:.0f}", f"{m['auto new'] / m['new + git']:.2f}"])
    print(tabulate(rows, headers=["desk", "svcdesk sync ms", "git pull --rebase && git push ms",
                                  "ratio", "new (sync: auto) ms", "new, then git's round trip ms",
                                  "ratio"], disable_numparse=True))
    print(f"\n{runs} runs each (medians); {os.cpu_count()} cores; {sys.executable}")


INTAKE_BASE = "refs/bench/intake-base"
JD_HEADERS = ["服务单号", "订单号", "商品编号", "商品名称", "服务类型", "申请原因", "问题描述",
              "申请时间", "服务单状态", "客户姓名", "联系电话", "收货地址", "下单时间"]
PROBLEMS = ["打印机卡纸，打印第二张就卡住", "空调不制冷，机房温度很高", "扫描仪扫描有竖线",
            "请问保修期多久？", "发票怎么开？", "开机后指示灯一直闪烁，无法联网"]


def intake_bench(desks, runs: int, messages: int, rows: int) -> None:
    """Requests arriving in bulk against one `svcdesk new` per request: `mail import` of
    ``messages`` messages (an mbox: new requests, one in ten a customer's reply, GBK and
    UTF-8) and `import` of a ``rows``-row 京东 CSV export in GBK, each desk put back before
    every run. The ratio is `new`'s time per request over the bulk command's."""
    from tabulate import tabulate

    env = {**os.environ, "SVCDESK_SERVER": "0"}
    work = Path(tempfile.mkdtemp(prefix="sd-intake-"))
    mbox, export = work / "requests.mbox", work / "jd.csv"
    _write_mbox(mbox, messages)
    _write_export(export, rows)
    out = []
    try:
        for d in desks:
            subprocess.run(["git", "update-ref", INTAKE_BASE, "HEAD"], cwd=d, check=True)
            times = {"new": [], "mail": [], "import": []}
            for run in range(runs + 1):  # the first run warms caches and is not counted
                took = {"new": statistics.median(timed([SVCDESK, *NEW], d, env)
                                                 for _ in range(5))}
                reset(d, env, INTAKE_BASE)
                took["mail"] = timed([SVCDESK, "mail", "import", str(mbox)], d, env)
                reset(d, env, INTAKE_BASE)
                took["import"] = timed([SVCDESK, "import", str(export)], d, env)
                reset(d, env, INTAKE_BASE)
                if run:
                    for key, ms in took.items():
                        times[key].append(ms)
            m = {k: statistics.median(v) for k, v in times.items()}
            count = sum(1 for _ in (d / "tickets").glob("*/*/*.yaml"))
            for what, n, key in ((f"mail import, {messages:,} messages", messages, "mail"),
                                 (f"import, {rows:,}-row CSV", rows, "import")):
                per = m[key] / n
                out.append([f"{d.name} ({count:,} tickets)", what, f"{m[key] / 1000:.1f}",
                            f"{1000 / per:.0f}", f"{per:.1f}", f"{m['new']:.0f}",
                            f"{m['new'] / per:.0f}"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(tabulate(out, headers=["desk", "bulk command", "s", "tickets/s", "ms each",
                                 "svcdesk new, ms each", "ratio"], disable_numparse=True))
    print(f"\n{runs} runs each (medians; `new` the median of 5 per run); "
          f"{os.cpu_count()} cores; {sys.executable}")


RECORDS_BASE = "refs/bench/records"


def records_bench(desks, runs: int) -> None:
    """Lookups of the records beside tickets (a desk made with --customers and --units):
    `customer show` and `unit show` against `show` of a ticket; and `new` whose phone finds
    a customer (the ticket linked, tier and region inherited) against the same `new` on a
    copy of the desk without records (DESK-norecords, made once): `new` as it was before
    records, the same request, the same notices queued; and against `new` on the same desk
    with a phone and email of nobody (the lookup made, nothing found). Interleaved; each
    `new` undone."""
    from tabulate import tabulate

    env = {**os.environ, "SVCDESK_SERVER": "0"}
    out = []
    for d in desks:
        bare = _without_records(d)
        ticket, _ = some_tickets(d)
        customer = sorted((d / "customers").glob("*/*.yaml"))[0].stem
        shown = subprocess.run([SVCDESK, "customer", "show", customer, "--format", "json"],
                               cwd=d, env=env, capture_output=True, text=True, check=True)
        shown = json.loads(shown.stdout)
        units = sorted((d / "units").glob("*/*.yaml"))
        serial = units[len(units) // 2].stem
        asked = ["new", "--type", "inquiry", "--title", "保修期多久", "--customer", "张先生",
                 "--description", "想问一下保修", "--phone", shown["phones"][0],
                 "--email", shown["emails"][0]]
        named = {
            "show ID": (d, ["show", ticket]),
            "customer show C": (d, ["customer", "show", customer]),
            "unit show SERIAL": (d, ["unit", "show", serial]),
            "new --phone (recognised)": (d, asked),
            "new --phone (no records)": (bare, asked),
            "new --phone (no such customer)": (d, asked[:-4] + ["--phone", "13700000001",
                                                                "--email", "x@example.org"]),
        }
        for place in (d, bare):
            subprocess.run(["git", "update-ref", RECORDS_BASE, "HEAD"], cwd=place, check=True)
        times = {k: [] for k in named}
        try:
            for run in range(runs + 1):  # the first run warms caches and is not counted
                for what, (place, args) in named.items():
                    took = timed([SVCDESK, *args], place, env)
                    if what.startswith("new"):
                        reset(place, env, RECORDS_BASE)
                    if run:
                        times[what].append(took)
        finally:
            for place in (d, bare):
                reset(place, env, RECORDS_BASE)
        m = {k: statistics.median(v) for k, v in times.items()}
        count = {f: sum(1 for _ in d.glob(f"{f}/*/*.yaml")) for f in ("customers", "units")}
        tickets = sum(1 for _ in (d / "tickets").glob("*/*/*.yaml"))
        label = (f"{d.name} ({tickets:,} tickets, {count['customers']:,} customers, "
                 f"{count['units']:,} units)")
        for what, against in (("customer show C", "show ID"), ("unit show SERIAL", "show ID"),
                              ("new --phone (recognised)", "new --phone (no records)"),
                              ("new --phone (recognised)", "new --phone (no such customer)")):
            out.append([label, what, f"{m[what]:.0f}", against, f"{m[against]:.0f}",
                        f"{m[what] / m[against]:.2f}"])
    print(tabulate(out, headers=["desk", "command", "ms", "against", "ms", "ratio"],
                   disable_numparse=True))
    print(f"\n{runs} runs each, interleaved (medians); {os.cpu_count()} cores; "
          f"{sys.executable}")


ANSWERS_BASE = "refs/bench/answers"


def answers_bench(desks, runs: int) -> None:
    """Similar tickets against search on the same desk: `similar ID` (a solved ticket's
    title, description, product and category) and `similar TEXT` against `search TEXT`; and
    `new --template` against the same `new` without it. The first `similar` on a desk cuts
    the words of every solved ticket: it is timed once, apart. Interleaved; each `new`
    undone."""
    from tabulate import tabulate

    env = {**os.environ, "SVCDESK_SERVER": "0"}
    out = []
    for d in desks:
        subprocess.run(["git", "update-ref", ANSWERS_BASE, "HEAD"], cwd=d, check=True)
        reset(d, env, ANSWERS_BASE)
        solved = json.loads(subprocess.run(
            [SVCDESK, "list", "--status", "closed", "--limit", "1", "--format", "json"],
            cwd=d, env=env, capture_output=True, text=True, check=True).stdout)[0]
        words = solved["title"]
        first = timed([SVCDESK, "similar", solved["id"]], d, env)  # cuts every solved ticket
        asked = ["new", "--type", "fault", "--title", "打印机卡纸", "--customer", "张先生",
                 "--phone", "13700000001", "--product", "LP-404 激光打印机",
                 "--purchased", "2026-05-01", "--description", "打印几张就卡纸"]
        named = {
            "search TEXT": ["search", words],
            "similar TEXT": ["similar", words],
            "similar ID": ["similar", solved["id"]],
            "new": asked,
            "new --template": asked[:1] + ["--template", "printer-jam"] + asked[1:],
        }
        times = {k: [] for k in named}
        try:
            for run in range(runs + 1):  # the first run warms caches and is not counted
                for what, args in named.items():
                    took = timed([SVCDESK, *args], d, env)
                    if what.startswith("new"):
                        reset(d, env, ANSWERS_BASE)
                    if run:
                        times[what].append(took)
        finally:
            reset(d, env, ANSWERS_BASE)
        m = {k: statistics.median(v) for k, v in times.items()}
        tickets = sum(1 for _ in (d / "tickets").glob("*/*/*.yaml"))
        label = f"{d.name} ({tickets:,} tickets)"
        for what, against in (("similar TEXT", "search TEXT"), ("similar ID", "search TEXT"),
                              ("new --template", "new")):
            out.append([label, what, f"{m[what]:.0f}", against, f"{m[against]:.0f}",
                        f"{m[what] / m[against]:.2f}"])
        out.append([label, "first similar (cuts every solved ticket)", f"{first:.0f}", "", "",
                    ""])
    print(tabulate(out, headers=["desk", "command", "ms", "against", "ms", "ratio"],
                   disable_numparse=True))
    print(f"\n{runs} runs each, interleaved (medians); {os.cpu_count()} cores; "
          f"{sys.executable}")


def _without_records(d: Path) -> Path:
    """A copy of desk ``d`` whose customers, units and parts are gone (made once)."""
    bare = d.with_name(d.name + "-norecords")
    if not bare.exists():
        subprocess.run(["cp", "-a", str(d), str(bare)], check=True)
        subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=bare)
        folders = [f for f in ("customers", "units", "parts") if (bare / f).exists()]
        subprocess.run(["git", "rm", "-r", "-q", *folders], cwd=bare, check=True)
        subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
                        "commit", "-q", "-m", "bench: the same desk without records"],
                       cwd=bare, check=True)
        # the removals sit in the split index's delta (6 MB at 120,000 records), which
        # every update-index would read: write a new shared index, as git does in time
        subprocess.run(["git", "update-index", "--split-index"], cwd=bare, check=True)
    return bare


def _write_mbox(path: Path, count: int) -> None:
    import mailbox
    from email.header import Header
    from email.mime.text import MIMEText

    box = mailbox.mbox(path)
    for i in range(count):
        text = PROBLEMS[i % len(PROBLEMS)]
        charset = "gbk" if i % 2 else "utf-8"
        msg = MIMEText(f"{text}\n型号 LP-404，订单 {i}\n\n谢谢\n-- \n客户{i % 300}", "plain",
                       charset)
        msg["From"] = f"{Header(f'客户{i % 300}', charset).encode()} <c{i % 300}@example.cn>"
        msg["To"] = "service@example.com"
        if i % 10 == 9:  # a customer's reply to a request made earlier in the same mailbox
            msg["Subject"] = Header(f"回复：[SD-{_today()}-{i // 10 + 1:04d}] {text}",
                                    charset).encode()
        else:
            msg["Subject"] = Header(text[:12], charset).encode()
        msg["Message-ID"] = f"<bench-{i}@example.cn>"
        box.add(msg)
    box.flush()


def _today() -> str:
    from svcdesk.base import clock
    from zoneinfo import ZoneInfo

    return f"{clock.now(ZoneInfo('Asia/Shanghai')):%Y%m%d}"


def _write_export(path: Path, count: int) -> None:
    import csv
    import io

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(JD_HEADERS)
    kinds = ("维修", "换货", "退货")
    for i in range(count):
        writer.writerow([str(1_700_000 + i), str(290_000_000_000 + i), "100012345678",
                         "惠普 LP-404 激光打印机", kinds[i % 3], "质量问题",
                         PROBLEMS[i % len(PROBLEMS)], "2026-12-01 10:00:00", "待审核",
                         f"客户{i % 300}", f"1370675{i % 10000:04d}", "浙江省绍兴市柯桥区",
                         "2026-06-18 21:05:33"])
    path.write_bytes(text.getvalue().encode("gbk"))


def _sync_clones(d: Path, home: Path, env: dict) -> dict:
    """Five clones of desk ``d`` under ``home`` (made once, as copies with their index):
    x, y and z share one bare remote; w and v another, whose rules say `sync: auto`."""
    clones = {k: home / k for k in ("x", "y", "z", "w", "v")}
    if all(c.exists() for c in clones.values()):
        return clones
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)

    def git(*args, cwd=None):
        subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com",
                        *args], cwd=cwd, check=True)

    def copy(source: Path, target: Path) -> None:
        subprocess.run(["cp", "-a", str(source), str(target)], check=True)
        git("update-index", "-q", "--refresh", cwd=target)  # new inodes: stat info again

    def share(clone: Path, remote: Path) -> None:
        git("clone", "-q", "--bare", str(clone), str(remote))
        git("remote", "add", "origin", str(remote), cwd=clone)
        git("fetch", "-q", "origin", cwd=clone)
        git("branch", "-q", "-u", "origin/main", cwd=clone)

    x, w = clones["x"], clones["w"]
    copy(d, x)
    subprocess.run([SVCDESK, "setup"], cwd=x, env=env, check=True, stdout=subprocess.DEVNULL)
    copy(x, w)
    share(x, home / "one.git")
    copy(x, clones["y"])
    copy(x, clones["z"])
    rules = (w / "rules.yaml").read_text(encoding="utf-8")
    (w / "rules.yaml").write_text(rules.replace("\ndesk:\n", "\ndesk:\n  sync: auto\n", 1),
                                  encoding="utf-8")
    git("commit", "-qam", "sync by itself", cwd=w)
    share(w, home / "two.git")
    copy(w, clones["v"])
    return clones


def reset(d: Path, env: dict, base: str = SLA_BASE) -> None:
    """Put a desk back to a benchmark's base commit, its index caught up."""
    subprocess.run(["git", "reset", "-q", "--hard", base], cwd=d, check=True)
    shutil.rmtree(d / ".git" / "svcdesk" / "outbox", ignore_errors=True)
    subprocess.run([SVCDESK, "list", "--limit", "1"], cwd=d, env=env, capture_output=True)


def timed(argv, cwd, env=None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, env=env)
    elapsed = (time.perf_counter() - started) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {cwd}: {proc.stderr.decode().strip()}")
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("desks", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--cold", action="store_true",
                        help="Time cold index builds (and the YAML reference) instead.")
    parser.add_argument("--sla", type=int, metavar="N",
                        help="Time sla check instead: nothing due, then about N tickets due.")
    parser.add_argument("--sync", action="store_true",
                        help="Time svcdesk sync and a desk that syncs by itself instead, "
                             "against git's own round trip (clones made once, DESK-sync/).")
    parser.add_argument("--intake", action="store_true",
                        help="Time mail import and import (bulk requests) instead, against "
                             "one `svcdesk new` per request.")
    parser.add_argument("--answers", action="store_true",
                        help="Time similar against search, and new --template against new.")
    parser.add_argument("--records", action="store_true",
                        help="Time customer show, unit show and new with a phone lookup "
                             "instead, against show and new (a desk made with --customers "
                             "and --units).")
    parser.add_argument("--messages", type=int, default=1000,
                        help="Messages for --intake (default 1,000).")
    parser.add_argument("--rows", type=int, default=10_000,
                        help="CSV rows for --intake (default 10,000).")
    parser.add_argument("--server", action="store_true",
                        help="Also time every command through `svcdesk server`, side by side.")
    parser.add_argument("--compare", type=Path, metavar="BIN",
                        help="Also time the installation whose bin folder is BIN (its svcdesk "
                             "and python), on a copy of each desk, side by side.")
    args = parser.parse_args(argv)
    os.environ.setdefault("SVCDESK_AGENT", "wang.fang")
    # an installed svcdesk has its bytecode compiled; do not time compiling it on every run
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    desks = [d.resolve() for d in args.desks]
    if args.cold:
        cold(desks, args.runs)
        return 0
    if args.sla:
        sla(desks, args.runs, args.sla)
        return 0
    if args.sync:
        sync_bench(desks, args.runs)
        return 0
    if args.intake:
        intake_bench(desks, args.runs, args.messages, args.rows)
        return 0
    if args.answers:
        answers_bench(desks, args.runs)
        return 0
    if args.records:
        records_bench(desks, args.runs)
        return 0
    # every `new` and `comment` timed is undone after the table, so that each run starts
    # from the same desk: open tickets and the day's numbers would otherwise pile up from
    # run to run, and slow list and new down
    installs = {"": BIN}
    copies = {}
    if args.compare:
        installs["compare"] = args.compare.resolve()
        for d in desks:
            copy = copies[d] = d.with_name(d.name + "-compare")
            if not copy.exists():
                subprocess.run(["cp", "-a", str(d), str(copy)], check=True)
                # a copy's files have new inodes and change times: git's index must learn
                # them again, or every file looks changed to git diff-index
                subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=copy)
    every = desks + list(copies.values())
    for d in every:
        subprocess.run(["git", "update-ref", TABLE_BASE, "HEAD"], cwd=d, check=True)
    try:
        with modes(args.server, installs) as envs:
            table(desks, envs, args.runs, installs, copies)
    finally:
        for d in every:
            reset(d, {**os.environ, "SVCDESK_SERVER": "0"}, TABLE_BASE)
    print(f"\n{args.runs} runs each, interleaved; {os.cpu_count()} cores; "
          f"{sys.executable}")
    return 0


@contextmanager
def modes(server: bool, installs: dict):
    """The environments to time in: a direct run, and (with ``server``) a run through a
    server of each installation, started for the benchmark in a private runtime folder."""
    direct = {**os.environ, "SVCDESK_SERVER": "0"}
    if not server:
        yield {"": direct}
        return
    runtime = tempfile.mkdtemp(prefix="sd-bench-", dir="/tmp")
    served = {**os.environ, "XDG_RUNTIME_DIR": runtime}
    served.pop("SVCDESK_SERVER", None)
    for bin_dir in installs.values():
        subprocess.run([str(bin_dir / "svcdesk"), "server", "start", "--idle", "30m"],
                       env=served, check=True, stdout=subprocess.DEVNULL)
    try:
        yield {"": direct, "served": served}
    finally:
        for bin_dir in installs.values():
            subprocess.run([str(bin_dir / "svcdesk"), "server", "stop"], env=served,
                           stdout=subprocess.DEVNULL)
        shutil.rmtree(runtime, ignore_errors=True)


def table(desks, envs: dict, runs: int, installs: dict, copies: dict) -> None:
    """Time every case on every desk in every environment (and installation), interleaved;
    print medians, and the ratios: the second desk over the first when there are two, and
    this installation over the compared one."""
    from tabulate import tabulate

    plans = {(d, i): cases(d, bin_dir) for d in desks for i, bin_dir in installs.items()}
    where = {(d, i): copies[d] if i else d for d in desks for i in installs}
    names = [name for name, _ in plans[(desks[0], "")]]
    columns = [(d, mode, i) for mode in envs for d in desks for i in installs]
    results = {(column, n): [] for column in columns for n in names}
    for k, name in enumerate(names):
        for d, mode, i in columns:  # warm caches once
            timed(plans[(d, i)][k][1], where[(d, i)], envs[mode])
        for _ in range(runs):
            for d, mode, i in columns:
                results[((d, mode, i), name)].append(
                    timed(plans[(d, i)][k][1], where[(d, i)], envs[mode]))
    counts = {d: sum(1 for _ in (d / "tickets").glob("*/*/*.yaml")) for d in desks}
    headers = ["median ms"] + [
        f"{d.name} ({counts[d]:,} tickets){' ' + mode if mode else ''}"
        f"{' ' + i if i else ''}" for d, mode, i in columns]
    pairs = len(desks) == 2 and len(installs) == 1
    if pairs:
        headers += [f"ratio{' ' + mode if mode else ''}" for mode in envs]
    if len(installs) == 2:
        headers += [f"{d.name}{' ' + mode if mode else ''} this/compare"
                    for mode in envs for d in desks]
    rows = []
    for name in names:
        medians = [statistics.median(results[(column, name)]) for column in columns]
        row = [name] + [f"{m:.0f}" for m in medians]
        if pairs or len(installs) == 2:  # neighbouring columns: second over first, or
            step = 1 if pairs else 0     # this installation (first) over the compared one
            row += [f"{medians[k + step] / medians[k + 1 - step]:.2f}"
                    for k in range(0, len(medians), 2)]
        rows.append(row)
    print(tabulate(rows, headers=headers, disable_numparse=True))


if __name__ == "__main__":
    sys.exit(main())
