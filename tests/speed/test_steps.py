"""What svcdesk's own commits leave for the next command (speed.steps): the paths each
wrote, so the index does not ask git to compare trees, and HEAD's folder entries, so the
next change does not ask git to list them. Anything not svcdesk's own, or damaged, and git
is asked again."""

from conftest import FAULT, commit_all, found, git, ids

TICKET = "tickets/2026/11/SD-20261122-0001.yaml"
SECOND = "tickets/2026/11/SD-20261122-0002.yaml"
INQUIRY = ("new", "--type", "inquiry", "--title", "How do I print on both sides?",
           "--description", "Duplex printing gives blank pages", "--customer", "Li Na",
           "--email", "li.na@example.com")


def test_after_svcdesk_commits_a_read_takes_what_changed_from_them_not_from_git(
        desk, run, tmp_path, monkeypatch):
    run(*FAULT)
    run(*INQUIRY)
    ids(run)  # the index stands at HEAD
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    run("comment", "20261122-1", "-m", "已寄回主板，等待更换")
    run("comment", "20261122-2", "-m", "Driver 5.2 fixed duplex printing")
    assert found(run, "寄回主板") == ["SD-20261122-0001"]
    assert found(run, "duplex", "fixed") == ["SD-20261122-0002"]
    assert "diff-tree" not in trace.read_text()
    # a commit svcdesk did not make: git compares the trees, and the read sees it
    path = desk.root / SECOND
    path.write_text(path.read_text(encoding="utf-8").replace(
        "How do I print on both sides?", "Printing on both sides fails"), encoding="utf-8")
    commit_all(desk.root, "retitled by hand")
    trace.write_text("")
    assert found(run, "fails") == ["SD-20261122-0002"]
    assert "diff-tree" in trace.read_text()
    # svcdesk's commits after it: their steps lead back to the hand commit
    run("comment", "20261122-2", "-m", "客户确认双面打印正常")
    trace.write_text("")
    assert found(run, "双面打印") == ["SD-20261122-0002"]
    assert "diff-tree" not in trace.read_text()
    # the steps' file damaged: git compares the trees again, and nothing is missed
    run("comment", "20261122-1", "-m", "主板已更换")
    (desk.root / ".git/svcdesk/steps.json").write_text("[[1, 2", encoding="utf-8")
    trace.write_text("")
    assert found(run, "主板已更换") == ["SD-20261122-0001"]
    assert "diff-tree" in trace.read_text()


def test_changes_after_svcdesks_own_commits_know_the_folders_without_asking_git(
        desk, run, tmp_path, monkeypatch):
    run(*FAULT)
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    assert run(*FAULT, "-q").stdout.strip() == "SD-20261122-0002"
    assert run("comment", "1122-1", "-m", "已远程排查").exit_code == 0
    assert run("comment", "1122-2", "-m", "已上门").exit_code == 0
    assert run(*FAULT, "-q").stdout.strip() == "SD-20261122-0003"
    assert "ls-tree" not in trace.read_text()
    assert git(desk.root, "status", "--porcelain") == ""
    # a commit svcdesk did not make: the folder is read from git again
    by_hand = desk.root / "tickets/2026/11/SD-20261122-0004.yaml"
    by_hand.write_bytes((desk.root / TICKET).read_bytes())
    git(desk.root, "add", "-A")
    git(desk.root, "-c", "user.name=t", "-c", "user.email=t@e.com", "commit", "-qm", "by hand")
    by_hand.unlink()  # and gone from the working tree, but not from HEAD
    trace.write_text("")
    assert run(*FAULT, "-q").stdout.strip() == "SD-20261122-0005"
    assert trace.read_text().count("ls-tree") == 1
    (desk.root / ".git/svcdesk/head-trees.json").write_text("{not json")
    assert run("comment", "1122-3", "-m", "再次确认").exit_code == 0
    assert run(*FAULT, "-q").stdout.strip() == "SD-20261122-0006"
