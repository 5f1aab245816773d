"""Shell completion (click's own, documented in the README) completes the desk's values:
open tickets' numbers, statuses, types, priorities, teams, agents."""

import pytest

from conftest import FAULT, svcdesk_process


def completed(root, words: str, shell: str = "bash") -> list:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    proc = svcdesk_process(cwd=root, env={"_SVCDESK_COMPLETE": f"{shell}_complete",
                                          "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return [line.split(",", 1)[1] for line in out.splitlines() if "," in line]


@pytest.mark.parametrize("words, expected", [
    ("svcdesk list --status ", ["all", "new", "assigned", "in_progress", "waiting",
                                "resolved", "reopened", "closed"]),
    ("svcdesk list --assignee li", ["li.qiang", "liu.yang"]),
    ("svcdesk search 卡纸 --type ma", ["maintenance"]),
    ("svcdesk new --priority P", ["P1", "P2", "P3", "P4"]),
    ("svcdesk assign 1122-1 zh", ["zhou.hao", "zhao.min"]),
    ("svcdesk sh", ["show"]),
])
def test_the_desks_values_complete(desk, words, expected):
    assert completed(desk.root, words) == expected


def test_ticket_numbers_complete_from_the_open_tickets(desk, run):
    assert run(*FAULT).exit_code == 0
    assert run(*FAULT, "--title", "打印机卡纸").exit_code == 0
    assert run("resolve", "1122-1", "-m", "已修好").exit_code == 0
    assert run("close", "1122-1", "--csat", "5").exit_code == 0  # closed: not offered
    assert completed(desk.root, "svcdesk show 1122") == ["SD-20261122-0002"]
    assert completed(desk.root, "svcdesk comment ") == ["SD-20261122-0002"]


def test_outside_a_desk_completion_offers_commands_and_no_error(tmp_path):
    assert completed(tmp_path, "svcdesk list --status ") == []
    assert "list" in completed(tmp_path, "svcdesk l")
