"""git, through the git command only: commits of exactly the written paths, and the log.

Commits are made with one ``git fast-import`` (which writes the trees along the changed paths
and updates the branch only if it still points at the parent we read) and then
``git update-index`` of those paths, so the cost does not grow with the desk's size and the
user's other staged or unstaged changes are never committed.
"""

import hashlib
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from svcdesk.base.errors import GitError, RemoteError

TRAILER_TICKET = "Svcdesk-Ticket"
TRAILER_ACTION = "Svcdesk-Action"
_SCRUB = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
          "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX")
_LOCKS = ("index.lock", "HEAD.lock", "packed-refs.lock", "config.lock", "shallow.lock")
_STALE_WAIT = 3.0  # seconds a lock may stay while a live git process works in the repo
# git estimates its loose objects from objects/17 alone; gc.auto's 6,700 means 27 there
GC_LOOSE = 6700 // 256
GC_PACKS = 50  # gc.autoPackLimit


class Identity(NamedTuple):
    """Who a commit is by."""

    name: str
    email: str

    def signature(self, when: datetime) -> str:
        """The fast-import form: ``Name <email> <epoch> <+hhmm>``."""
        name = "".join(c for c in self.name if c not in "<>\n\r") or self.email
        email = "".join(c for c in self.email if c not in "<>\n\r")
        offset = when.utcoffset().total_seconds() // 60 if when.utcoffset() else 0
        sign = "-" if offset < 0 else "+"
        offset = abs(int(offset))
        return f"{name} <{email}> {int(when.timestamp())} {sign}{offset // 60:02d}{offset % 60:02d}"


class LogEntry(NamedTuple):
    """One commit that touched a ticket."""

    commit: str
    author: str
    email: str
    when: datetime
    subject: str
    action: str


REMOTE_TIMEOUT = 300  # seconds a fetch, push or clone may take
MERGE_DRIVER = "svcdesk"  # the merge driver's name in .gitattributes and git's config
MERGED = ("tickets/**/*.yaml", "customers/**/*.yaml", "units/**/*.yaml", "parts/*.yaml")
ATTRIBUTES = ("# svcdesk: two versions of a ticket or record merge by their histories; each clone\n"
              "# needs the driver in its git config (svcdesk clone, or svcdesk setup after git "
              "clone)\n" + "".join(f"{p} merge={MERGE_DRIVER}\n" for p in MERGED))


def attributes_added(text: str) -> str | None:
    """``text`` (a .gitattributes) with the lines naming svcdesk's merge driver that it
    lacks (a desk made before records were kept lacks those of customers, units, parts);
    None when it has them all."""
    lines = set(text.splitlines())
    missing = [p for p in MERGED if f"{p} merge={MERGE_DRIVER}" not in lines]
    if not missing:
        return None
    if len(missing) < len(MERGED):
        added = "".join(f"{p} merge={MERGE_DRIVER}\n" for p in missing)
    else:
        added = ATTRIBUTES
    return text + ("\n" if text and not text.endswith("\n") else "") + added
_UNFINISHED = (
    ("MERGE_HEAD", "a git merge", "finish it (resolve the files, git add, git commit) or "
                                  "abort it (git merge --abort)"),
    ("rebase-merge", "a git rebase", "finish it (git rebase --continue) or abort it "
                                     "(git rebase --abort)"),
    ("rebase-apply", "a git rebase or am", "finish it (git rebase --continue) or abort it "
                                           "(git rebase --abort)"),
    ("CHERRY_PICK_HEAD", "a git cherry-pick", "finish it (git cherry-pick --continue) or "
                                              "abort it (git cherry-pick --abort)"),
    ("REVERT_HEAD", "a git revert", "finish it (git revert --continue) or abort it "
                                    "(git revert --abort)"),
)


class Git:
    """The git repository of one desk."""

    def __init__(self, root: Path, git_dir: Path | None = None):
        self.root = root
        self.git_dir = git_dir or root / ".git"
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env.setdefault("GIT_TERMINAL_PROMPT", "0")
        self.env = env

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        """Run ``git ARGS`` in the desk; return stdout; raise GitError with git's message."""
        try:
            proc = subprocess.run(("git",) + args, cwd=self.root, input=input,
                                  capture_output=True, env=self.env)
        except FileNotFoundError:
            raise GitError("git is not installed (svcdesk needs the git command)") from None
        if check and proc.returncode != 0:
            raise _failed(args[0], proc.stderr, proc.returncode)
        return proc.stdout

    # ---- reading ---------------------------------------------------------------------------

    def user(self) -> dict:
        """git's user.name and user.email as {"name": ..., "email": ...} (those set; the last
        value of each, as git itself takes it), in one git process."""
        out = self.run("config", "-z", "--get-regexp", r"^user\.(name|email)$", check=False)
        found = {}
        for item in out.decode("utf-8", "replace").split("\0"):
            key, _, value = item.partition("\n")
            if key in ("user.name", "user.email") and value.strip():
                found[key[5:]] = value.strip()
        return found

    def head(self) -> tuple:
        """Return (commit id or None on an unborn branch, branch ref such as refs/heads/main)."""
        lines = self.run("rev-parse", "-q", "HEAD", "--symbolic-full-name", "HEAD",
                         check=False).decode().split()
        if len(lines) == 2:
            sha, ref = lines
        else:  # unborn branch: no commit yet
            sha, ref = None, self.run("symbolic-ref", "-q", "HEAD", check=False).decode().strip()
        if not ref.startswith("refs/heads/"):
            raise GitError("the desk is on a detached HEAD; check out a branch first "
                           "(git switch main)")
        return sha, ref

    def tree_entries(self, commit: str | None, folder: str) -> dict:
        """Return {name: blob id} of the files directly in ``folder`` at ``commit``."""
        if commit is None:
            return {}
        out = self.run("ls-tree", "-z", commit, "--", folder.rstrip("/") + "/")
        entries = {}
        for record in out.split(b"\0"):
            if record:
                meta, path = record.split(b"\t", 1)
                entries[path.decode().rsplit("/", 1)[-1]] = meta.split()[2].decode()
        return entries

    def blob_at(self, commit: str | None, relpath: str) -> str | None:
        """The blob id of ``relpath`` at ``commit``, or None when it is not there."""
        if commit is None:
            return None
        folder, name = relpath.rsplit("/", 1)
        return self.tree_entries(commit, folder).get(name)

    def changed_between(self, old_tree: str, new_tree: str) -> list | None:
        """Paths (relative to the trees) whose blobs differ; None when a tree is gone."""
        proc = subprocess.run(("git", "diff-tree", "-r", "-z", "--no-renames", "--name-only",
                               old_tree, new_tree), cwd=self.root, capture_output=True,
                              env=self.env)
        if proc.returncode != 0:
            return None
        return [p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p]

    def tracked(self, paths) -> set:
        """Which of ``paths`` git's index tracks (asked by their folders, so that any number
        of paths fits on git's command line)."""
        wanted = set(paths)
        folders = sorted({p.rsplit("/", 1)[0] + "/" if "/" in p else p for p in wanted})
        if not folders:
            return set()
        out = self.run("ls-files", "-z", "--", *folders, check=False)
        return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p} & wanted

    def probe(self, folder: str, worktree: bool = True) -> "Probe":
        """Start asking git how ``folder`` differs from HEAD (only HEAD's commit and tree,
        without ``worktree``); read the answer later."""
        return Probe(self, folder, worktree)

    @staticmethod
    def blob_id(data: bytes, hex_len: int = 40) -> str:
        """The id git gives ``data`` as a blob (SHA-1, or SHA-256 in such repositories)."""
        algo = hashlib.sha256 if hex_len == 64 else hashlib.sha1
        return algo(b"blob %d\0" % len(data) + data).hexdigest()

    def filtered(self, paths) -> set:
        """Those of ``paths`` that a filter of .gitattributes applies to (Git LFS): git
        keeps what the filter makes of their content, not the content. Without a `filter=`
        in the desk's .gitattributes (or .git/info/attributes) no process is started."""
        paths = list(paths)
        if not paths or not any("filter=" in (_read_text(f) or "") for f in (
                self.root / ".gitattributes", self.git_dir / "info" / "attributes")):
            return set()
        out = self.run("check-attr", "-z", "--stdin", "filter",
                       input=b"".join(p.encode("utf-8") + b"\0" for p in paths))
        parts = out.split(b"\0")
        return {parts[i].decode("utf-8") for i in range(0, len(parts) - 2, 3)
                if parts[i + 2] not in (b"unspecified", b"unset")}

    def store_filtered(self, relpath: str, data: bytes) -> str:
        """Store ``data`` as git stores a file at ``relpath`` (through its filter: an LFS
        pointer, the content in .git/lfs); return the blob id to commit."""
        return self.run("hash-object", "-w", f"--path={relpath}", "--stdin",
                        input=data).decode().strip()

    def filtered_blob_id(self, relpath: str, data: bytes) -> str:
        """The blob id git would commit for ``data`` at filtered ``relpath``."""
        return self.run("hash-object", f"--path={relpath}", "--stdin", input=data).decode().strip()

    def unfiltered(self, relpath: str, blob: str) -> bytes:
        """The content of a filtered file's blob, as a checkout writes it."""
        return self.run("cat-file", "--filters", f"--path={relpath}", blob)

    # ---- writing --------------------------------------------------------------------------

    def commit(self, parent: str | None, ref: str, files: dict, message: str,
               author: Identity, when: datetime) -> str:
        """Commit ``files`` ({relpath: bytes, or None to delete}) on top of ``parent``.

        The branch moves only if it still points at ``parent``; the new commit id is returned.
        """
        return self.import_commits(parent, ref, [(files, message, author, when)])

    def import_commits(self, parent: str | None, ref: str, commits) -> str:
        """Append ``commits`` ([(files, message, author, when)...]) to ``ref`` in one process.
        A file's data is its bytes, None to delete it, or the id of a blob git holds.

        ``feature done`` makes fast-import refuse a stream cut short, so a killed caller
        leaves the branch where it was.
        """
        proc = subprocess.Popen(("git", "-c", "fastimport.unpackLimit=0", "fast-import",
                                 "--quiet"), cwd=self.root,
                                env=self.env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        count = 0
        try:
            write = proc.stdin.write
            write(b"feature done\n")
            for files, message, author, when in commits:
                count += 1
                body = message.encode("utf-8")
                write(f"commit {ref}\nmark :{count}\nauthor {author.signature(when)}\n"
                      f"committer {author.signature(when)}\n".encode())
                write(b"data %d\n%s\n" % (len(body), body))
                if count == 1 and parent:
                    write(f"from {parent}\n".encode())
                for path, data in files.items():
                    if data is None:
                        write(f"D {path}\n".encode())
                    elif isinstance(data, str):  # a blob already stored (store_filtered)
                        write(f"M 100644 {data} {path}\n".encode())
                    else:
                        write(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data),
                                                                         data))
                write(b"\n")
            write(f"get-mark :{count}\ndone\n".encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        with proc.stdout, proc.stderr:
            out, err = proc.stdout.read(), proc.stderr.read()
        if proc.wait() != 0 or not count:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            raise GitError("git fast-import failed: " + (lines[0] if lines else "no commits"))
        return out.decode().split()[-1]

    def collect_garbage(self) -> bool:
        """`git gc --auto` when git would find it due by its own estimate (loose objects, or a
        pack count past gc.autoPackLimit), counted here so that a change does not start a
        process to learn it is not; True if git was asked to work. It honours gc.auto and
        gc.autoDetach. (Each change leaves one small pack: fastimport.unpackLimit=0 keeps
        fast-import from exploding it into loose objects, which would cost a second process,
        `git unpack-objects`, on every change; speed.packs rolls them up.)"""
        loose, packs = self.object_counts()
        if loose > GC_LOOSE or packs > GC_PACKS:
            self.run("gc", "--auto", "--quiet", check=False)
            return True
        return False

    def object_counts(self) -> tuple:
        """(loose objects in one of git's 256 object folders, packs): what git's gc --auto
        estimates from."""
        objects = self.git_dir / "objects"
        try:
            loose = len(os.listdir(objects / "17"))
        except FileNotFoundError:
            loose = 0
        try:
            packs = sum(1 for n in os.listdir(objects / "pack") if n.endswith(".pack"))
        except FileNotFoundError:
            packs = 0
        return loose, packs

    def update_index(self, paths) -> None:
        """Make the index agree with the working tree (and so with HEAD) for ``paths``."""
        self.updating_index(paths).result()

    def updating_index(self, paths) -> "Running":
        """Start update_index(``paths``); result() waits for it (GitError if it failed). The
        paths go on its standard input: an `sla check` may change any number of tickets."""
        running = self._update_index("-z", "--stdin", stdin=subprocess.PIPE)
        running.send(paths)
        return running

    def index_updater(self) -> "Running":
        """Start a `git update-index` that waits for its paths (Running.send, a few at most):
        it reads git's index, the part of its work that grows with the desk, while the caller
        prepares them. It holds git's index lock until sent them, so start it under the desk
        lock, for a change that will not keep it long."""
        return self._update_index("-z", "--stdin", stdin=subprocess.PIPE)

    def _update_index(self, *args, stdin=None) -> "Running":
        try:
            proc = subprocess.Popen(("git", "update-index", "--add", "--remove", *args),
                                    cwd=self.root, env=self.env, stdin=stdin,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise GitError("git is not installed (svcdesk needs the git command)") from None
        return Running(proc, "update-index")

    def lock_files(self, ref: str | None = None, repository: bool = True) -> list:
        """The git lock files present: the repository's own (the index, HEAD, packed refs,
        config) unless ``repository`` is False, and ``ref``'s."""
        names = (list(_LOCKS) if repository else []) + ([ref + ".lock"] if ref else [])
        return [self.git_dir / n for n in names if (self.git_dir / n).exists()]

    def clear_stale_locks(self, ref: str | None = None, repository: bool = True) -> list:
        """Remove git lock files a killed process left; wait while a live git may hold one.

        The locks are the repository's own (the index, HEAD, packed refs, config) unless
        ``repository`` is False, and ``ref``'s."""
        present = self.lock_files(ref, repository)
        removed = []
        if not present:
            return removed
        deadline = time.monotonic() + _STALE_WAIT
        while present and time.monotonic() < deadline and self._live_git():
            time.sleep(0.02)
            present = [p for p in present if p.exists()]
        if present and not self._live_git():
            for path in present:
                try:
                    path.unlink()
                    removed.append(path.name)
                except FileNotFoundError:
                    pass
        return removed

    def clear_stale_packs(self) -> list:
        """Remove the half-written packs (objects/pack/tmp_pack_*, tmp_idx_*) a git killed
        mid-write left, unless a live git works in the repository and may be writing one;
        `git fsck` complains of them until `git gc` would prune them, weeks later."""
        folder = self.git_dir / "objects" / "pack"
        try:
            stale = [folder / n for n in os.listdir(folder) if n.startswith(("tmp_pack_",
                                                                              "tmp_idx_"))]
        except FileNotFoundError:
            return []
        if not stale or self._live_git():
            return []
        for path in stale:
            path.unlink(missing_ok=True)
        return [p.name for p in stale]

    def wait_idle(self, seconds: float = _STALE_WAIT) -> bool:
        """Wait (at most ``seconds``) until no git process works in this repository, such as
        one a killed svcdesk left running; True when none does."""
        deadline = time.monotonic() + seconds
        while self._live_git():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def _live_git(self) -> bool:
        """True if a running git process works in this repository (Linux: read /proc)."""
        proc = Path("/proc")
        if not proc.is_dir():
            return True  # cannot tell: never take a lock away
        root = str(self.root.resolve())
        me = os.getpid()
        for entry in proc.iterdir():
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            try:
                comm = (entry / "comm").read_text().strip()
                if comm != "git" and not comm.startswith("git-"):
                    continue
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if cwd == root or cwd.startswith(root + os.sep):
                return True
        return False

    # ---- set-up ----------------------------------------------------------------------------

    def init(self) -> None:
        """Make the desk folder a git repository (or keep the one it is) on branch main."""
        if not (self.root / ".git").exists():
            self.run("init", "-q", "-b", "main")
        self.configure()

    def configure(self) -> None:
        """This clone's settings: the ticket merge driver (the command git runs to merge two
        versions of a ticket, see ATTRIBUTES), and what keeps commits and logs fast on a desk
        of 100,000 tickets. Settings not yet there are added to .git/config in one write
        (one git process to look, rather than one per setting)."""
        wanted = {"core.splitIndex": "true", "index.version": "4",
                  "core.untrackedCache": "true", "core.commitGraph": "true",
                  "gc.writeCommitGraph": "true", "fetch.writeCommitGraph": "true",
                  f"merge.{MERGE_DRIVER}.name": "svcdesk: ticket histories merged",
                  f"merge.{MERGE_DRIVER}.driver":
                      f'"{sys.executable}" -m svcdesk merge-file %O %A %B %P'}
        out = self.run("config", "--local", "--list", "-z", check=False)
        have = {}
        for item in out.decode("utf-8", "replace").split("\0"):
            key, _, value = item.partition("\n")
            have[key.lower()] = value
        missing = {k: v for k, v in wanted.items() if have.get(k.lower()) != v}
        for key in [k for k in missing if k.lower() in have]:  # set, to another value
            self.run("config", key, missing.pop(key))
        sections: dict = {}
        for key, value in missing.items():
            head, _, name = key.rpartition(".")
            section, _, sub = head.partition(".")
            title = f'[{section} "{sub}"]' if sub else f"[{section}]"
            quoted = value.replace("\\", "\\\\").replace('"', '\\"')
            sections.setdefault(title, []).append(f'\t{name} = "{quoted}"\n')
        if sections:
            with open(self.git_dir / "config", "a", encoding="utf-8") as config:
                config.write("".join(title + "\n" + "".join(lines)
                                     for title, lines in sections.items()))

    # ---- sharing: the remote, fetch, merge, push ---------------------------------------------

    def upstream(self, branch: str | None = None) -> tuple | None:
        """(remote, branch) that ``branch`` (default: the one checked out) syncs with: its
        configured upstream, else the same branch on the only (or the `origin`) remote;
        None when the clone has none. Read from .git/config (no git process: `show` asks),
        through git only when that file includes others."""
        if branch is None:
            head = _read_text(self.git_dir / "HEAD") or ""
            if not head.startswith("ref: refs/heads/"):
                return None
            branch = head[len("ref: refs/heads/"):].strip()
        text = _read_text(self.git_dir / "config") or ""
        if re.search(r"^\s*\[include", text, re.M | re.I):
            return self._upstream_by_git(branch)
        remotes = re.findall(r'^\s*\[remote\s+"([^"]+)"\]', text, re.M)
        if not remotes:
            return None
        section = re.search(rf'^\s*\[branch\s+"{re.escape(branch)}"\](.*?)(?=^\s*\[|\Z)',
                            text, re.M | re.S)
        if section:
            remote = re.search(r"^\s*remote\s*=\s*(\S+)", section[1], re.M | re.I)
            merge = re.search(r"^\s*merge\s*=\s*refs/heads/(\S+)", section[1], re.M | re.I)
            if remote and merge and remote[1] != ".":
                return remote[1].strip('"'), merge[1].strip('"')
        return ("origin" if "origin" in remotes else remotes[0]), branch

    def _upstream_by_git(self, branch: str) -> tuple | None:
        remote = self.run("config", "--get", f"branch.{branch}.remote", check=False)
        merge = self.run("config", "--get", f"branch.{branch}.merge", check=False)
        remote, merge = remote.decode().strip(), merge.decode().strip()
        if remote and remote != "." and merge.startswith("refs/heads/"):
            return remote, merge[len("refs/heads/"):]
        remotes = self.run("remote", check=False).decode().split()
        if not remotes:
            return None
        return ("origin" if "origin" in remotes else remotes[0]), branch

    def remote_url(self, remote: str) -> str:
        """Where ``remote`` points (as configured)."""
        return self.run("config", "--get", f"remote.{remote}.url", check=False).decode().strip()

    def fetch(self, remote: str, branch: str) -> str | None:
        """Fetch ``branch`` of ``remote``; its commit id (None: the remote has no such branch
        yet). RemoteError when the remote cannot be reached."""
        proc = self._remote("fetch", "--quiet", "--no-tags", remote,
                            f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
        if proc.returncode != 0:
            said = _last_line(proc.stderr)
            if "couldn't find remote ref" in said:
                return None
            raise RemoteError(f"cannot fetch from {remote} ({self.remote_url(remote)}): "
                              f"{said}; nothing was changed, run `svcdesk sync` again later")
        return self.rev(f"refs/remotes/{remote}/{branch}")

    def push(self, remote: str, branch: str) -> bool:
        """Push HEAD to ``branch`` of ``remote``; False when it was refused because the
        remote moved on (another clone pushed first). RemoteError for any other refusal."""
        proc = self._remote("push", "--quiet", "--porcelain", remote,
                            f"HEAD:refs/heads/{branch}")
        if proc.returncode == 0:
            return True
        out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        if "[rejected]" in out or "non-fast-forward" in out or "fetch first" in out or \
                "but expected" in out:  # another push landed while this one was sent
            return False
        raise RemoteError(f"{remote} ({self.remote_url(remote)}) refused the push: "
                          f"{_last_line(proc.stderr) or _last_line(proc.stdout)}; your "
                          "changes are committed here, run `svcdesk sync` again later")

    def _remote(self, *args, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """A git command that talks to a remote, bounded in time, never prompting."""
        env = dict(self.env)
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=15")
        try:
            return subprocess.run(("git",) + args, cwd=cwd or self.root, capture_output=True,
                                  env=env, timeout=REMOTE_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RemoteError(f"git {args[0]} got no answer from the remote in "
                              f"{REMOTE_TIMEOUT} s; nothing was lost, run `svcdesk sync` "
                              "again later") from None
        except FileNotFoundError:
            raise GitError("git is not installed (svcdesk needs the git command)") from None

    def rev(self, ref: str) -> str | None:
        """The commit id ``ref`` names, or None."""
        out = self.run("rev-parse", "-q", "--verify", ref + "^{commit}", check=False)
        return out.decode().strip() or None

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of two commits (None: unrelated histories)."""
        return self.run("merge-base", a, b, check=False).decode().strip() or None

    def count(self, since: str | None, until: str) -> int:
        """How many commits (merges left out) ``until`` has that ``since`` has not."""
        spec = f"{since}..{until}" if since else until
        return int(self.run("rev-list", "--count", "--no-merges", spec).decode().strip())

    def added(self, base: str | None, head: str, folder: str) -> list:
        """Files under ``folder`` that ``head`` has and ``base`` had not."""
        if base is None:
            out = self.run("ls-tree", "-r", "-z", "--name-only", head, "--", folder)
        else:
            out = self.run("diff-tree", "-r", "-z", "--name-only", "--no-renames",
                           "--diff-filter=A", base, head, "--", folder)
        return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]

    def changed_blobs(self, old: str, new: str) -> list:
        """[(path, blob id at ``old`` or None, blob id at ``new`` or None)] of the files that
        differ between two commits."""
        out = self.run("diff-tree", "-r", "-z", "--no-renames", old, new)
        fields = out.split(b"\0")
        changes = []
        for meta, path in zip(fields[0::2], fields[1::2]):
            if not meta.startswith(b":"):
                continue
            _, _, before, after, _ = meta.decode().split(" ", 4)
            changes.append((path.decode("utf-8", "surrogateescape"),
                            None if set(before) == {"0"} else before,
                            None if set(after) == {"0"} else after))
        return changes

    def blobs(self, ids: list) -> list:
        """The contents of the blobs ``ids``, in their order (one git cat-file for all)."""
        if not ids:
            return []
        out = self.run("cat-file", "--batch", input="\n".join(ids).encode() + b"\n")
        contents, at = [], 0
        for _ in ids:
            end = out.index(b"\n", at)
            header = out[at:end].split()
            if len(header) != 3:
                raise GitError(f"git cat-file: {out[at:end].decode(errors='replace')}")
            size = int(header[2])
            contents.append(out[end + 1:end + 1 + size])
            at = end + 1 + size + 1
        return contents

    def read_blob(self, commit: str, relpath: str) -> bytes | None:
        """The content of ``relpath`` at ``commit`` (None: it is not there)."""
        proc = subprocess.run(("git", "cat-file", "blob", f"{commit}:{relpath}"),
                              cwd=self.root, capture_output=True, env=self.env)
        return proc.stdout if proc.returncode == 0 else None

    def merge(self, commit: str, message: str, author: "Identity", when: datetime) -> list:
        """Merge ``commit`` into HEAD (a fast-forward when HEAD has nothing of its own), the
        ticket files by the merge driver; [] when it merged, else the files left in conflict
        (the merge is then still in progress)."""
        env = dict(self.env, GIT_AUTHOR_NAME=author.name, GIT_AUTHOR_EMAIL=author.email,
                   GIT_COMMITTER_NAME=author.name, GIT_COMMITTER_EMAIL=author.email,
                   GIT_AUTHOR_DATE=when.isoformat(), GIT_COMMITTER_DATE=when.isoformat())
        proc = subprocess.run(("git", "merge", "--quiet", "--no-edit", "--no-stat", "-m", message,
                               commit),
                              cwd=self.root, capture_output=True, env=env)
        if proc.returncode == 0:
            return []
        left = self.run("diff", "--name-only", "-z", "--diff-filter=U", check=False)
        files = [p.decode("utf-8", "surrogateescape") for p in left.split(b"\0") if p]
        if not files and not (self.git_dir / "MERGE_HEAD").exists():
            raise GitError(f"git merge failed: {_last_line(proc.stderr) or _last_line(proc.stdout)}")
        return files or ["(unknown)"]

    def reset_to(self, commit: str) -> None:
        """Put HEAD (and the files it changed since) back at ``commit``, keeping any other
        work in the tree."""
        self.run("reset", "--quiet", "--keep", commit)

    def clone(self, url: str) -> None:
        """Clone ``url`` into this folder (which must not exist or be empty)."""
        self.root.parent.mkdir(parents=True, exist_ok=True)
        proc = self._remote("clone", "--quiet", url, str(self.root), cwd=self.root.parent)
        if proc.returncode != 0:
            raise RemoteError(f"cannot clone {url}: {_last_line(proc.stderr)}")
        if self.rev("HEAD") is None:  # the remote's HEAD names no branch it has (a bare
            branches = self.run("branch", "-r", "--format=%(refname:short)").decode().split()
            for name in ("origin/main", "origin/master", *branches):  # repository made
                if name in branches:  # with another default branch): take its main one
                    local = name.split("/", 1)[1]
                    self.run("checkout", "-q", "-B", local, "--track", name)
                    break

    def unfinished(self) -> tuple | None:
        """(what, how to finish or abort it) of a git merge, rebase, cherry-pick or revert
        left unfinished in this clone; None when there is none."""
        for name, what, how in _UNFINISHED:
            if (self.git_dir / name).exists():
                return what, how
        return None

    def has_merge_driver(self) -> bool:
        """Whether this clone has the ticket merge driver configured."""
        try:
            text = (self.git_dir / "config").read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        if re.search(rf'^\s*\[merge\s+"{MERGE_DRIVER}"\]', text, re.M):
            return True
        return bool(self.run("config", "--get", f"merge.{MERGE_DRIVER}.driver",
                             check=False).strip())  # set globally, or by an include

    def write_commit_graph(self) -> None:
        """Bring the commit-graph (with changed-path Bloom filters) up to HEAD."""
        self.run("commit-graph", "write", "--reachable", "--changed-paths", "--split",
                 check=False)

    # ---- the log ---------------------------------------------------------------------------

    def commits_since(self, base: str | None, head: str) -> int:
        """How many commits ``head`` has that ``base`` does not."""
        rng = f"{base}..{head}" if base else head
        out = self.run("rev-list", "--count", rng, check=False).strip()
        return int(out) if out.isdigit() else 1 << 30

    def log(self, relpath: str) -> list:
        """The commits that touched ``relpath``, newest first (git's own walk)."""
        return _entries(self.run("log", f"--format={_LOG_FORMAT}", "--", relpath))

    def describe(self, commits: list) -> list:
        """Log entries of the given commits, in the order given."""
        if not commits:
            return []
        return _entries(self.run("log", "--no-walk=unsorted", "--stdin", f"--format={_LOG_FORMAT}",
                                 input="".join(f"{c}\n" for c in commits).encode()))

    def history(self, under: str):
        """Each commit from HEAD back, newest first, as (commit, parents, changed paths under
        ``under``), read as git walks; closing the generator stops git. Nothing on an unborn
        branch. Raises GitError if git fails."""
        try:
            proc = subprocess.Popen(("git", "log", "--format=%x01%H %P", "--name-only",
                                     "--no-renames", "--root", "-z", "HEAD", "--"),
                                    cwd=self.root, env=self.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise GitError("git is not installed (svcdesk needs the git command)") from None
        finished = False
        try:
            record, rest = None, b""
            while chunk := proc.stdout.read1(1 << 16):
                tokens = (rest + chunk).split(b"\0")
                rest = tokens.pop()
                for token in tokens:
                    if token[:1] == b"\x01":
                        if record is not None:
                            yield record
                        ids = token[1:].decode().split()
                        record = (ids[0], tuple(ids[1:]), [])
                    else:
                        name = token.lstrip(b"\n").decode("utf-8", "surrogateescape")
                        if name.startswith(under):
                            record[2].append(name)
            if record is not None:
                yield record
            finished = True
        finally:
            if not finished:
                proc.kill()
            proc.stdout.close()
            err = proc.stderr.read()
            proc.stderr.close()
            code = proc.wait()
        if code != 0 and b"does not have any commits" not in err:
            raise _failed("log", err, code)


_LOG_FORMAT = ("%H%x00%an%x00%ae%x00%aI%x00%s%x00%(trailers:key=" + TRAILER_ACTION
               + ",valueonly,separator=%x2C)%x1e")


def _entries(out: bytes) -> list:
    """LogEntry of each record in ``git log --format=_LOG_FORMAT`` output."""
    entries = []
    for record in out.decode("utf-8", "replace").split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        sha, name, email, when, subject, action = record.split("\x00")
        entries.append(LogEntry(sha, name, email, datetime.fromisoformat(when), subject,
                                action.strip()))
    return entries


class Running:
    """A git command started in the background."""

    def __init__(self, proc: subprocess.Popen, name: str):
        self._proc, self._name = proc, name

    def send(self, paths) -> None:
        """Give a started `update-index --stdin` its paths, and end its input."""
        try:
            self._proc.stdin.write(b"".join(os.fsencode(p) + b"\0" for p in paths))
        except BrokenPipeError:
            pass  # it has failed: result() says why
        self._end_input()

    def _end_input(self) -> None:
        if self._proc.stdin and not self._proc.stdin.closed:
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass

    def result(self) -> None:
        """Wait for it; raise GitError with git's message if it failed."""
        self._end_input()
        err = b""
        if self._proc.stderr:
            with self._proc.stderr:
                err = self._proc.stderr.read()
        self._proc.wait()
        if self._proc.returncode != 0:
            raise _failed(self._name, err, self._proc.returncode)

    def result_quietly(self) -> None:
        """Wait for it, whatever became of it (the caller has nothing to learn from it)."""
        try:
            self.result()
        except GitError:
            pass


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _last_line(output: bytes) -> str:
    lines = output.decode("utf-8", "replace").strip().splitlines()
    return lines[-1].strip() if lines else ""


def _failed(command: str, stderr: bytes, code: int) -> GitError:
    """The error of a git command that failed: its last line of complaint."""
    message = stderr.decode("utf-8", "replace").strip().splitlines()
    return GitError(f"git {command} failed: " + (message[-1] if message else f"exit {code}"))


class Probe:
    """HEAD (its commit, and its tree of a folder) and the working-tree files that differ from
    it, asked at once.

    Both git processes start when the probe is made and run while Python does other work
    (loading rules, opening the index); the stat of every file is most of a read's cost.
    Without ``worktree`` only HEAD is asked, and the files are not looked at.
    """

    def __init__(self, git: Git, folder: str, worktree: bool = True):
        self.folder, self.worktree = folder, worktree
        run = dict(cwd=git.root, env=git.env, stdout=subprocess.PIPE,
                   stderr=subprocess.DEVNULL)
        self._dirty = None
        try:
            self._tree = subprocess.Popen(("git", "rev-parse", "HEAD", f"HEAD:{folder}",
                                           "--"), **run)
            if worktree:
                self._dirty = subprocess.Popen(("git", "diff-index", "-z", "--name-only",
                                                "--no-renames", "HEAD", "--", folder), **run)
        except FileNotFoundError:
            raise GitError("git is not installed (svcdesk needs the git command)") from None
        self._result = None

    def result(self) -> tuple:
        """(tree id or None, [paths that differ from HEAD] or None when HEAD has no tree or
        the files were not looked at, HEAD's commit id or None)."""
        if self._result is None:
            ids = self._tree.communicate()[0].decode().split()
            dirty = None
            if self._dirty is not None:
                out = self._dirty.communicate()[0]
                if self._dirty.returncode == 0:
                    dirty = [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0")
                             if p]
            ok = self._tree.returncode == 0 and len(ids) >= 2
            head, tree = (ids[0], ids[1]) if ok else (None, None)
            self._result = (tree, dirty, head)
        return self._result

    def close(self) -> None:
        """Wait for its processes (used when the answer is not needed after all)."""
        self.result()
