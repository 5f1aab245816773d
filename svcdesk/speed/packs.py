"""Small packs rolled up: each change leaves one small pack (fast-import is kept from
exploding it into loose objects, which would cost a second process, `git unpack-objects`, on
every change). Past SMALL_PACKS of them, `git repack --geometric=2` rolls the small packs
into one and leaves the big ones alone (~80 ms at 10,000 tickets, ~300 ms at 100,000, once in
SMALL_PACKS changes), so svcdesk's changes never bring a desk near gc.autoPackLimit, where
`git gc --auto` would repack everything. Like git's own `gc --auto`, the roll-up honours
gc.autoDetach: by default it runs in the background, one at a time (State.repack_lock).
"""

import fcntl
import os

SMALL_PACKS = 16


def roll_up_if_due(git, lock) -> bool:
    """Roll the small packs up when there are more than SMALL_PACKS; True if it started."""
    if git.object_counts()[1] <= SMALL_PACKS:
        return False
    try:
        lock.parent.mkdir(exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return False  # the next change tries again
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # one is running
        command = ("git", "repack", "-d", "-q", "--geometric=2")
        if git.run("config", "--type=bool", "gc.autoDetach", check=False).strip() == b"false":
            git.run(*command[1:], check=False)
        else:  # it inherits the locked descriptor: the lock is held until it ends
            _detached(git, command, fd)
        return True
    except OSError:
        return False  # git could not be started: the next change tries again
    finally:
        os.close(fd)


def _detached(git, command: tuple, keep_fd: int) -> None:
    """Start ``command`` in a session of its own, its output nowhere, and leave it: a child
    starts it and ends at once, so it is nobody's child to wait for (as git's own `gc
    --auto` detaches)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            nowhere = os.open(os.devnull, os.O_RDWR)
            for target in (0, 1, 2):
                os.dup2(nowhere, target)
            if os.fork() == 0:
                os.set_inheritable(keep_fd, True)
                os.chdir(git.root)
                os.execvpe(command[0], command, git.env)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
