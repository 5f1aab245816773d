"""Files attached to tickets (`svcdesk attach`, `svcdesk attachment`): stored once beside the
ticket in the desk's git, with names that never leave its folder, refused past the desk's
size limit, given back byte for byte."""

import json
import shutil
import subprocess

import pytest
import yaml

from svcdesk.base.errors import ExitCode

from conftest import commit_all, commit_count, git

INQUIRY = ("new", "--type", "inquiry", "--customer", "张三", "--description", "问一下", "-q")


def ticket(root, number="SD-20261122-0001") -> dict:
    path = root / f"tickets/{number[3:7]}/{number[7:9]}/{number}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def files_of(root) -> list:
    return sorted(p.relative_to(root).as_posix() for p in root.glob("attachments/**/*")
                  if p.is_file())


def test_files_attached_are_committed_beside_the_ticket_and_listed_by_show(desk, run,
                                                                            tmp_path):
    run(*INQUIRY, "--title", "打印机卡纸")
    photo, log = tmp_path / "故障照片.jpg", tmp_path / "日志.txt"
    photo.write_bytes(bytes(range(256)) * 100)
    log.write_text("E-05 卡纸\n", encoding="gbk")
    before = commit_count(desk.root)
    result = run("attach", "1122-1", photo, log, "-m", "客户发来的照片和日志")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["SD-20261122-0001: attached 故障照片.jpg (25 KB)",
                                          "SD-20261122-0001: attached 日志.txt (10 B)"]
    assert commit_count(desk.root) == before + 1
    data = ticket(desk.root)
    assert [e.split("/", 1)[1] for e in data["attachments"]] == ["故障照片.jpg", "日志.txt"]
    event = data["events"][-1]
    assert event["action"] == "attach" and event["note"] == "客户发来的照片和日志"
    assert files_of(desk.root) == [f"attachments/2026/11/{data['uid']}/{e}"
                                   for e in data["attachments"]]
    shown = run("show", "1122-1").stdout
    assert "附件" in shown and "故障照片.jpg  25 KB" in shown
    assert run("attachment", "1122-1", "日志.txt").stdout_bytes == log.read_bytes()
    digest = data["attachments"][0].split("/")[0]
    assert run("attachment", "1122-1", digest[:6]).stdout_bytes == photo.read_bytes()
    listed = run("attachment", "1122-1").stdout
    assert "故障照片.jpg" in listed and digest in listed
    assert git(desk.root, "status", "--porcelain") == ""


def test_the_same_file_attached_again_is_stored_once_and_changes_nothing(desk, run,
                                                                         tmp_path):
    run(*INQUIRY, "--title", "打印机卡纸")
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"jpeg")
    run("attach", "1122-1", photo)
    copy = tmp_path / "copy of a.jpg"
    copy.write_bytes(b"jpeg")
    before = commit_count(desk.root)
    result = run("attach", "1122-1", copy)
    assert result.exit_code == 0, result.stderr
    assert "not attached again: the same file is attached already, as a.jpg" in result.stdout
    assert commit_count(desk.root) == before
    assert len(ticket(desk.root)["attachments"]) == 1


def test_a_file_past_the_size_limit_is_refused_and_nothing_is_attached(desk, run, tmp_path):
    (desk.root / "rules.yaml").write_text(
        (desk.root / "rules.yaml").read_text(encoding="utf-8")
        + "\nattachments:\n  max_bytes: 100\n", encoding="utf-8")
    run(*INQUIRY, "--title", "打印机卡纸")
    small, big = tmp_path / "small.txt", tmp_path / "video.mp4"
    small.write_bytes(b"x" * 100)
    big.write_bytes(b"x" * 101)
    before = commit_count(desk.root)
    result = run("attach", "1122-1", small, big)
    assert result.exit_code == ExitCode.INVALID
    assert "video.mp4: 101 B, over the limit of 100 B (rules.yaml attachments.max_bytes)" \
        in result.stderr
    assert commit_count(desk.root) == before and files_of(desk.root) == []


def test_names_that_would_leave_the_folder_or_break_a_system_are_made_safe(desk, run):
    run(*INQUIRY, "--title", "打印机卡纸")
    for name, data in (("../../rules.yaml", b"1"), ("..\\..\\x.txt", b"2"), ("CON.txt", b"3"),
                       ("a\x07b?.log", b"4"), (".hidden", b"5"), ("长" * 150 + ".jpg", b"6")):
        result = run("attach", "1122-1", "-", "--name", name, input=data)
        assert result.exit_code == 0, result.stderr
    names = [e.split("/", 1)[1] for e in ticket(desk.root)["attachments"]]
    assert names[:5] == ["rules.yaml", "x.txt", "_CON.txt", "a_b_.log", "hidden"]
    assert names[5] == "长" * 65 + ".jpg"  # 199 bytes: a file system takes at most 255
    uid = ticket(desk.root)["uid"]
    assert all(p.startswith(f"attachments/2026/11/{uid}/") for p in files_of(desk.root))
    assert git(desk.root, "diff", "HEAD~6", "--stat", "--", "rules.yaml") == ""


def test_an_attachment_is_written_to_a_folder_and_never_over_a_file_unasked(desk, run,
                                                                            tmp_path):
    run(*INQUIRY, "--title", "打印机卡纸")
    run("attach", "1122-1", "-", "--name", "发票.pdf", input=b"%PDF-1.4")
    out = tmp_path / "out"
    out.mkdir()
    result = run("attachment", "1122-1", "发票.pdf", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert (out / "发票.pdf").read_bytes() == b"%PDF-1.4"
    again = run("attachment", "1122-1", "发票.pdf", "-o", out)
    assert again.exit_code == ExitCode.USAGE and "exists" in again.stderr
    assert run("attachment", "1122-1", "发票.pdf", "-o", out, "--force").exit_code == 0


def test_asking_for_an_attachment_the_ticket_lacks_names_those_it_has(desk, run):
    run(*INQUIRY, "--title", "打印机卡纸")
    run("attach", "1122-1", "-", "--name", "发票.pdf", input=b"%PDF")
    result = run("attachment", "1122-1", "照片.jpg")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert result.stderr.strip() == ("Error: SD-20261122-0001: no attachment called 照片.jpg; "
                                      "the ticket has: 发票.pdf")
    nameless = run("attach", "1122-1", "-", input=b"x")
    assert nameless.exit_code == ExitCode.USAGE and "--name" in nameless.stderr


def test_a_file_changed_on_disk_is_not_given_back_as_the_attachment(desk, run):
    run(*INQUIRY, "--title", "打印机卡纸")
    run("attach", "1122-1", "-", "--name", "日志.txt", input=b"original")
    [path] = files_of(desk.root)
    (desk.root / path).write_bytes(b"tampered")
    result = run("attachment", "1122-1", "日志.txt")
    assert result.exit_code == ExitCode.TICKET_FILE
    assert "not the file that was attached" in result.stderr and "git checkout" in \
        result.stderr


def test_show_as_json_lists_the_attachments(desk, run):
    run(*INQUIRY, "--title", "打印机卡纸")
    run("attach", "1122-1", "-", "--name", "日志.txt", input=b"log")
    data = json.loads(run("show", "1122-1", "--format", "json").stdout)
    assert [a.split("/", 1)[1] for a in data["attachments"]] == ["日志.txt"]


@pytest.mark.skipif(shutil.which("git-lfs") is None,
                    reason="git-lfs is not installed (.ci/run installs it)")
def test_attachments_tracked_by_git_lfs_are_committed_as_pointers_and_read_back_whole(
        desk, run, tmp_path):
    git(desk.root, "lfs", "install", "--local")
    git(desk.root, "lfs", "track", "attachments/**")
    commit_all(desk.root, "attachments in Git LFS")
    run(*INQUIRY, "--title", "打印机卡纸")
    video = bytes(range(256)) * 400
    result = run("attach", "1122-1", "-", "--name", "故障视频.mp4", input=video)
    assert result.exit_code == 0, result.stderr
    [path] = files_of(desk.root)
    assert (desk.root / path).read_bytes() == video  # the file itself in the working tree
    pointer = git(desk.root, "cat-file", "-p", f"HEAD:{path}")
    assert pointer.startswith("version https://git-lfs.github.com/spec/v1")
    assert git(desk.root, "status", "--porcelain") == ""
    assert run("attachment", "1122-1", "故障视频.mp4").stdout_bytes == video
    plain = tmp_path / "plain"  # a clone whose git has no LFS: the pointer is said so
    subprocess.run(("git", "-c", "filter.lfs.smudge=", "-c", "filter.lfs.process=", "-c",
                    "filter.lfs.required=false", "clone", "-q", str(desk.root), str(plain)),
                   check=True, capture_output=True)
    result = run("--desk", plain, "attachment", "1122-1", "故障视频.mp4")
    assert result.exit_code == ExitCode.TICKET_FILE and "git lfs pull" in result.stderr
