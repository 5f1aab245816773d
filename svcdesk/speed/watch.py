"""Knowing that a desk's ticket files have not changed, without looking at them.

The command server (`svcdesk server`) watches the ticket folders of the desks it serves with
Linux's inotify: every change under ``tickets/`` (a file written, touched, made, removed or
renamed, a folder made or removed) advances that desk's count. Each worker is forked with the
counts as they stood, after the server has read every change the kernel had queued, so a
command that began after a change is forked with a count that has moved past it.

The server also keeps the names of the files changed, with the count of each change. The
index records the token (server, desk, count) under which it last caught up. A later worker
asks which files changed after that count and parses only those, or nothing at all when the
count has not moved: the index is current without git's stat of every file (~140 ms at
100,000 tickets). Anything uncertain means git checks, as it always does: no server,
another operating system, a desk not watched yet (the worker asks for it), a desk folder
that is now another folder, a folder made or removed, the kernel's queue overflowing, more
changes than the server keeps, the watch limit reached.

Only working-tree files matter: the index holds what the files say, so a commit, pull or
checkout that changes no file changes nothing the index holds, and one that does is seen.
"""

import os
import struct

_served: dict | None = None  # in a worker: Watcher.tokens() as it stood at the fork
_ask_fd: int | None = None  # in a worker: where to ask the server to watch another desk


def serving(tokens: dict | None, ask_fd: int | None) -> None:
    """Called in a server's worker: the desks watched when it was forked, and the pipe on
    which to name a desk to watch from now on."""
    global _served, _ask_fd
    _served, _ask_fd = tokens, ask_fd


def token(root) -> str | None:
    """The watch token of the desk at ``root``, or None when its files are not watched (a
    direct run, or a desk the server does not watch yet: it is asked to)."""
    if _served is None:
        return None
    key = os.fspath(root)
    known = _served.get(key)
    if known is None:
        _ask(key)
        return None
    try:
        st = os.stat(os.path.join(key, TICKETS))
    except OSError:
        return None
    return known[2] if (st.st_dev, st.st_ino) == known[:2] else None


def changed_since(root, token_then: str | None) -> set | None:
    """The files (relative to ``root``) changed after the watch token ``token_then`` up to
    the one this worker was forked with; None when that cannot be told (git must look)."""
    if _served is None or not token_then:
        return None
    known = _served.get(os.fspath(root))
    if known is None:
        return None
    prefix, _, count = token_then.rpartition(":")
    desk = known[3]
    if prefix != known[2].rpartition(":")[0] or not count.isdigit():
        return None
    since, now = int(count), known[4]
    if since > now or since < desk.floor:
        return None
    changed = set()
    for at, relpath in reversed(desk.log):  # newest first; newer than ``now`` is left out
        if at <= since:
            break
        if at <= now:
            changed.add(relpath)
    return changed


def _ask(root: str) -> None:
    try:
        os.write(_ask_fd, os.fsencode(root) + b"\n")
    except (OSError, TypeError):  # the server is busy or gone: the next command asks again
        pass


# ---- the server's side: Linux inotify through ctypes ---------------------------------------

TICKETS = "tickets"
DEPTH = 2  # tickets/YYYY/MM: ticket files live in month folders
MOST_DESKS = 32
MOST_NAMES = 4096  # changed files remembered per desk; beyond them git looks

_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF = 0x400, 0x800
_IN_Q_OVERFLOW, _IN_IGNORED, _IN_ONLYDIR, _IN_ISDIR = 0x4000, 0x8000, 0x1000000, 0x40000000
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO
         | _IN_CREATE | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_ONLYDIR)
_HEADER = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name
# Filesystems that only this machine's kernel changes, so inotify sees every change (statfs's
# f_type). A desk on NFS, SMB, sshfs or a VM's shared folder may be changed by another
# machine unseen: it is not watched, and git checks it as always.
LOCAL_FILESYSTEMS = {0xEF53: "ext2/3/4", 0x58465342: "xfs", 0x9123683E: "btrfs",
                     0x01021994: "tmpfs", 0x794C7630: "overlayfs", 0x2FC12FC1: "zfs",
                     0xF2F52010: "f2fs", 0x52654973: "reiserfs", 0x3153464A: "jfs"}


class _Desk:
    def __init__(self, root: str, generation: int, st):
        from collections import deque

        self.root, self.generation, self.count = root, generation, 0
        self.identity = (st.st_dev, st.st_ino)
        self.top = -1  # the watch on tickets/ itself
        self.log = deque()  # (count, path relative to root) of each file changed
        self.floor = 0  # the log names every file changed after this count

    def changed(self, relpath: str | None) -> None:
        """Count a change: of the file ``relpath``, or of something unnamed (None)."""
        self.count += 1
        if relpath is None:
            self.floor = self.count
            self.log.clear()
            return
        self.log.append((self.count, relpath))
        if len(self.log) > MOST_NAMES:
            self.floor = self.log.popleft()[0]


class Watcher:
    """The server's watches on the ticket folders of the desks it was asked about."""

    def __init__(self):
        import ctypes

        self._libc = ctypes.CDLL(None, use_errno=True)
        self._statfs = ctypes.create_string_buffer(256)  # struct statfs, f_type first
        self.fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.nonce = os.urandom(6).hex()
        self._desks: dict[str, _Desk] = {}
        self._watches: dict[int, tuple] = {}  # wd -> (desk, path, depth)
        self._generation = 0
        self.refused: dict[str, str] = {}  # desk root -> why it is not watched

    @classmethod
    def start(cls) -> "Watcher | None":
        """A watcher, or None where inotify is not there (not Linux, or no descriptors)."""
        try:
            return cls()
        except (OSError, AttributeError):
            return None

    def tokens(self) -> dict:
        """{desk root: (dev, inode, token, desk, count)} of every watched desk, as a worker
        takes them (the desk's log is the server's own: a forked worker has its copy)."""
        return {root: (*d.identity, f"{self.nonce}:{d.generation}:{d.count}", d, d.count)
                for root, d in self._desks.items()}

    def watch(self, root: str) -> bool:
        """Watch the ticket folders of the desk at ``root`` (again, if its folder changed).
        False when it cannot be watched whole; ``refused`` then says why."""
        top = os.path.join(root, TICKETS)
        try:
            st = os.stat(top)
        except OSError:
            return False
        kind = self._filesystem(top)
        if kind not in LOCAL_FILESYSTEMS:
            self.refused[root] = f"on a filesystem inotify may not see whole (0x{kind or 0:x})"
            return False
        desk = self._desks.get(root)
        if desk is not None:
            if desk.identity == (st.st_dev, st.st_ino):
                return True
            self._forget(desk)
        if len(self._desks) >= MOST_DESKS:
            return False
        self._generation += 1
        desk = _Desk(root, self._generation, st)
        self._desks[root] = desk
        desk.top = self._add(desk, top, 0)
        if desk.top < 0:
            self._forget(desk)
            self.refused[root] = "a folder under tickets/ is a symbolic link, or too many watches"
            return False
        self.refused.pop(root, None)
        return True

    def _filesystem(self, path: str) -> int | None:
        if self._libc.statfs(os.fsencode(path), self._statfs) != 0:
            return None
        return struct.unpack_from("l", self._statfs.raw)[0] & 0xFFFFFFFF

    def read(self) -> None:
        """Take every change the kernel has queued (call it just before forking a worker)."""
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return
            at = 0
            while at < len(data):
                wd, mask, _, size = _HEADER.unpack_from(data, at)
                name = data[at + _HEADER.size:at + _HEADER.size + size].rstrip(b"\0")
                at += _HEADER.size + size
                self._event(wd, mask, name)

    def close(self) -> None:
        os.close(self.fd)

    def _event(self, wd: int, mask: int, name: bytes) -> None:
        if mask & _IN_Q_OVERFLOW:  # changes were lost: every desk counts as changed
            for desk in self._desks.values():
                desk.changed(None)
            return
        watched = self._watches.get(wd)
        if watched is None:
            return
        desk, path, depth = watched
        if mask & _IN_IGNORED:  # the folder is gone, and its watch with it
            desk.changed(None)
            del self._watches[wd]
            if wd == desk.top:
                self._forget(desk)
        elif mask & (_IN_DELETE_SELF | _IN_MOVE_SELF):
            desk.changed(None)
            if wd == desk.top:
                self._forget(desk)
        elif mask & _IN_ISDIR:  # a folder made, removed or moved: what is in it is unknown
            desk.changed(None)
            if mask & (_IN_CREATE | _IN_MOVED_TO) and depth < DEPTH:
                if self._add(desk, os.path.join(path, os.fsdecode(name)), depth + 1) < 0:
                    self._forget(desk)  # not watched whole: not watched at all
        elif (mask & (_IN_CREATE | _IN_MOVED_TO) and depth < DEPTH
              and os.path.islink(os.path.join(path, os.fsdecode(name)))):
            desk.changed(None)  # a link to a folder whose changes no watch would see
            self._forget(desk)
        elif name:
            desk.changed(os.path.relpath(os.path.join(path, os.fsdecode(name)), desk.root))
        else:  # the folder's own attributes: nothing in it changed
            desk.count += 1

    def _add(self, desk: _Desk, path: str, depth: int) -> int:
        """Watch ``path`` and the folders below it down to the month folders; -1 on failure."""
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(path), _MASK)
        if wd < 0:
            return -1
        self._watches[wd] = (desk, path, depth)
        if depth < DEPTH:
            try:
                entries = list(os.scandir(path))
            except OSError:
                return wd  # gone already: its removal is an event of the folder above
            if any(e.is_symlink() for e in entries):
                return -1  # changes behind a link would go unseen
            for sub in [e.path for e in entries if e.is_dir(follow_symlinks=False)]:
                if self._add(desk, sub, depth + 1) < 0:
                    return -1
        return wd

    def _forget(self, desk: _Desk) -> None:
        if self._desks.get(desk.root) is desk:
            del self._desks[desk.root]
        for wd, (owner, _, _) in list(self._watches.items()):
            if owner is desk:
                del self._watches[wd]
                self._libc.inotify_rm_watch(self.fd, wd)
