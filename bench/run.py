"""Time svcdesk's main commands on benchmark desks, side by side: python bench/run.py DESK...

Each command runs --runs times per desk, interleaved across desks so machine noise falls on
all of them alike; the table shows medians in ms, with references (python start-up, the
imports every command pays) measured in the same run.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SVCDESK = str(BIN / "svcdesk")

NEW = ["new", "--type", "fault", "--title", "打印机卡纸", "--customer", "刘建国", "--phone",
       "13706751234", "--product", "LP-404 激光打印机", "--purchased", "2026-05-20",
       "--description", "打印到第二三张就卡纸", "-q"]


def some_ticket(desk: Path) -> str:
    """An older ticket of the desk (its file, not the index, decides)."""
    months = sorted((desk / "tickets").glob("*/*"))
    return sorted(months[len(months) // 2].glob("*.yaml"))[0].stem


def cases(desk: Path):
    ticket = some_ticket(desk)
    return [
        ("python -c pass (reference)", [sys.executable, "-c", "pass"]),
        ("import click, yaml (reference)", [sys.executable, "-c", "import click, yaml"]),
        ("svcdesk --version", [SVCDESK, "--version"]),
        ("svcdesk new", [SVCDESK, *NEW]),
        ("svcdesk show ID", [SVCDESK, "show", ticket]),
        ("svcdesk show ID (short)", [SVCDESK, "show", ticket.split("-", 1)[1]]),
        ("svcdesk comment ID", [SVCDESK, "comment", ticket, "-m", "已电话回访"]),
        ("svcdesk log ID", [SVCDESK, "log", ticket]),
    ]


def timed(argv, cwd) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True)
    elapsed = (time.perf_counter() - started) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {cwd}: {proc.stderr.decode().strip()}")
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("desks", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args(argv)
    os.environ.setdefault("SVCDESK_AGENT", "wang.fang")
    desks = [d.resolve() for d in args.desks]
    plans = {d: cases(d) for d in desks}
    names = [name for name, _ in plans[desks[0]]]
    results = {(d, n): [] for d in desks for n in names}
    for i, name in enumerate(names):
        for d in desks:  # warm caches once
            timed(plans[d][i][1], d)
        for _ in range(args.runs):
            for d in desks:
                results[(d, name)].append(timed(plans[d][i][1], d))
    counts = {d: sum(1 for _ in (d / "tickets").glob("*/*/*.yaml")) for d in desks}
    from tabulate import tabulate

    headers = ["median ms"] + [f"{d.name} ({counts[d]:,} tickets)" for d in desks]
    if len(desks) == 2:
        headers.append("ratio")
    rows = []
    for name in names:
        medians = [statistics.median(results[(d, name)]) for d in desks]
        row = [name] + [f"{m:.0f}" for m in medians]
        if len(desks) == 2:
            row.append(f"{medians[1] / medians[0]:.2f}")
        rows.append(row)
    print(tabulate(rows, headers=headers, disable_numparse=True))
    print(f"\n{args.runs} runs each, interleaved; {os.cpu_count()} cores; "
          f"{sys.executable}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
