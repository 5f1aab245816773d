"""A long listing on a terminal goes through the pager, as git's does: SVCDESK_PAGER, else
PAGER, else less, with LESS=FRX unless set; `--no-pager`, a pager of cat, or output to no
terminal prints it as it is. The command runs for real on a pseudo-terminal."""

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BIN

pytestmark = pytest.mark.slow  # real processes on a pseudo-terminal


def on_terminal(args, cwd, env) -> str:
    """Run svcdesk with a pseudo-terminal as its standard streams; what it printed there."""
    main, side = pty.openpty()
    proc = subprocess.Popen([str(BIN / "svcdesk"), *args], cwd=cwd, stdin=side, stdout=side,
                            stderr=side, env=env, close_fds=True)
    os.close(side)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(main)
    assert proc.returncode == 0, out
    return out.decode("utf-8", "replace")


@pytest.fixture
def pager(make_desk, tmp_path):
    """A desk, and a pager that keeps what it was given and the LESS it saw."""
    desk = make_desk(sample=True)
    script = tmp_path / "pager.sh"
    script.write_text(f'#!/bin/sh\necho "$LESS" > "{tmp_path}/less"\ncat > "{tmp_path}/paged"\n')
    script.chmod(0o755)
    env = {**os.environ, "SVCDESK_PAGER": str(script), "TERM": "xterm"}
    env.pop("LESS", None)
    return desk.root, env, tmp_path


def test_a_listing_on_a_terminal_goes_through_the_pager_with_git_s_less_options(pager):
    root, env, tmp = pager
    shown = on_terminal(["list", "--status", "all"], root, env)
    paged = (tmp / "paged").read_text(encoding="utf-8")
    assert "SD-20261121-0001" in paged and "共 40 个工单" in paged
    assert "SD-20261121-0001" not in shown  # the pager had it all
    assert (tmp / "less").read_text().strip() == "FRX"
    on_terminal(["search", "卡纸"], root, env)
    assert "激光打印机频繁卡纸" in (tmp / "paged").read_text(encoding="utf-8")


def test_no_pager_a_pager_of_cat_or_a_pipe_print_the_listing_as_it_is(pager):
    root, env, tmp = pager
    shown = on_terminal(["--no-pager", "list", "--status", "all"], root, env)
    assert "SD-20261121-0001" in shown and not (tmp / "paged").exists()
    shown = on_terminal(["list"], root, {**env, "SVCDESK_PAGER": "cat"})
    assert "SD-20261121-0001" in shown and not (tmp / "paged").exists()
    piped = subprocess.run([str(BIN / "svcdesk"), "list"], cwd=root, env=env,
                           capture_output=True, text=True)
    assert "SD-20261121-0001" in piped.stdout and not (tmp / "paged").exists()
