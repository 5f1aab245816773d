"""The desk lock: one changing command at a time per clone, with a bounded wait."""

import errno
import fcntl
import os
import time
from pathlib import Path

from svcdesk.base.errors import LockTimeoutError, ReadOnlyDeskError


class DeskLock:
    """An exclusive flock on ``.git/svcdesk/lock``; the kernel drops it if the holder dies."""

    def __init__(self, path: Path, timeout: float, holder: str, what: str = "the desk"):
        self.path, self.timeout, self.holder, self.what = path, timeout, holder, what
        self._fd = None

    def __enter__(self):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            raise ReadOnlyDeskError(f"{self.what} cannot be changed here: {exc.strerror} "
                                    f"({self.path.parent}); nothing was changed") from None
        deadline = time.monotonic() + self.timeout
        pause = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    who = _read_holder(self.path)
                    os.close(fd)
                    raise LockTimeoutError(
                        f"{self.what} is locked by {who or 'another process'}; gave up after "
                        f"{self.timeout:g} s (wait longer with SVCDESK_LOCK_TIMEOUT=SECONDS)"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 1.5, 0.025)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{self.holder}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc):
        fd, self._fd = self._fd, None
        if fd is not None:
            os.ftruncate(fd, 0)
            os.close(fd)  # closing releases the flock
        return False


def _read_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
