"""git, asked by svcdesk: answers that hold for any number of files."""

import subprocess

from svcdesk.adapters.repo import Git


def git(root, *args):
    return subprocess.run(("git",) + args, cwd=root, check=True, capture_output=True).stdout


def many_paths(count: int) -> list:
    """Ticket paths enough to pass the kernel's limit on one command line (about 2 MB)."""
    return [f"tickets/2026/11/SD-20261122-{n:06d}.yaml" for n in range(count)]


def test_which_files_git_tracks_is_answered_for_more_paths_than_a_command_line_holds(tmp_path):
    git(tmp_path, "init", "-q")
    folder = tmp_path / "tickets/2026/11"
    folder.mkdir(parents=True)
    for name in ("SD-20261122-000001.yaml", "SD-20261122-000002.yaml", "other.yaml"):
        (folder / name).write_text("x\n")
    git(tmp_path, "add", "tickets/2026/11/SD-20261122-000001.yaml",
        "tickets/2026/11/other.yaml")
    asked = many_paths(120_000)  # about 4.7 MB of arguments
    assert Git(tmp_path).tracked(asked) == {"tickets/2026/11/SD-20261122-000001.yaml"}
    assert Git(tmp_path).tracked([]) == set()


def test_git_index_is_updated_for_more_paths_than_a_command_line_holds(tmp_path):
    git(tmp_path, "init", "-q")
    folder = tmp_path / "tickets/2026/11"
    folder.mkdir(parents=True)
    paths = many_paths(120_000)
    for path in paths[:3]:
        (tmp_path / path).write_text("x\n")
    Git(tmp_path).update_index(paths)  # the missing ones are removed: none were there
    assert git(tmp_path, "ls-files").decode().split() == paths[:3]


def test_the_remote_a_branch_syncs_with_is_read_as_git_reads_it(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    repo = Git(tmp_path)
    assert repo.upstream() is None  # no remote: not a shared desk
    git(tmp_path, "remote", "add", "backup", "/srv/backup.git")
    assert repo.upstream() == ("backup", "main")  # the only remote, the same branch
    git(tmp_path, "remote", "add", "origin", "/srv/desk.git")
    assert repo.upstream() == ("origin", "main")
    git(tmp_path, "config", "branch.main.remote", "backup")
    git(tmp_path, "config", "branch.main.merge", "refs/heads/trunk")
    assert repo.upstream() == ("backup", "trunk")  # as configured
    (tmp_path / "extra.cfg").write_text('[branch "main"]\n\tremote = origin\n')
    git(tmp_path, "config", "include.path", str(tmp_path / "extra.cfg"))
    assert repo.upstream() == repo._upstream_by_git("main") == ("origin", "trunk")
