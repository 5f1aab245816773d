"""`svcdesk server`: a resident process that has imported svcdesk once and forks a worker
per command, so a command starts in milliseconds instead of paying Python's imports each time.

Each worker is a fresh fork of the server as it stood after its imports: it takes the
caller's working directory, environment, umask and standard streams (the file descriptors
themselves, so terminals, pipes and files behave as in a direct run), runs the command line
through `svcdesk.cli.main`, and sends back the exit code. Nothing a command does stays in the
server. The server steps aside (and exits) when any file it imported has changed since it
started, so an upgrade never runs old code; it exits by itself after --idle without requests.
"""

import os
import sys
import time

import click

from svcdesk.cli.output import echo
from svcdesk.speed.client import PROTOCOL, socket_path, trusted
from svcdesk.base.errors import ExitCode, UsageError

# what a command may import: loaded once in the server, shared by every worker
PRELOAD = ("wcwidth", "sqlite3", "jinja2.sandbox", "chinese_calendar", "re2",
           "email.mime.text", "smtplib", "csv", "locale", "fcntl", "ctypes", "difflib",
           "_strptime", "encodings.idna", "stringprep", "encodings.unicode_escape")
MAX_REQUEST = 1 << 24
_log_fd = 2  # the server's log (its stderr); a worker keeps its own copy of it


@click.group()
def server():
    """A resident svcdesk that starts each command in milliseconds (optional; see --help).

    `svcdesk server start` once per login (or from your shell profile); every `svcdesk`
    command of this user and installation then runs in a fork of it. Without a server, or
    with SVCDESK_SERVER=0, commands run on their own as usual.
    """


@server.command()
@click.option("--idle", default="8h", show_default=True, metavar="DURATION",
              help="Exit after this long without a command (90s, 30m, 8h; 0: never).")
@click.option("--foreground", is_flag=True, help="Stay in the foreground (for systemd, tests).")
def start(idle, foreground):
    """Start the server in the background, unless one is running."""
    seconds = _duration(idle)
    folder, path = socket_path()
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if not trusted(folder):
        raise UsageError(f"{folder} must be yours alone (mode 0700) to hold the server's socket")
    lock = _claim(path)
    if lock is None:
        echo(f"svcdesk server: already running (pid {_pid(path)}, {path})")
        return
    if not foreground:
        ready_r, ready_w = os.pipe()
        if os.fork():
            os.close(ready_w)
            os.close(lock)
            ok = os.read(ready_r, 1) == b"1"
            if not ok:
                raise UsageError(f"the server did not start; see {_log(path)}")
            echo(f"svcdesk server: started (pid {_pid(path)}, {path}; exits after "
                 f"{idle} idle)" if seconds else f"svcdesk server: started (pid {_pid(path)})")
            return
        os.close(ready_r)
        os.setsid()
        if os.fork():
            os._exit(0)
        _detach(_log(path))
    else:
        ready_w = None
    _serve(path, lock, seconds, ready_w)


@server.command()
def stop():
    """Stop the server (commands then run on their own)."""
    path, pid = _running()
    if pid is None:
        echo("svcdesk server: not running")
        return
    import signal

    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if _claimable(path):
            break
        time.sleep(0.02)
    echo(f"svcdesk server: stopped (pid {pid})")


@server.command()
def status():
    """Say whether the server runs, its pid, socket and log (exit 1 when none runs)."""
    path, pid = _running()
    if pid is None:
        echo("svcdesk server: not running")
        return ExitCode.FAILURE
    since = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(path).st_mtime))
    echo(f"svcdesk server: running (pid {pid}, since {since})\n  socket: {path}\n"
         f"  log:    {_log(path)}")


COMMANDS = (server,)


# --- the server ------------------------------------------------------------------------------

def _serve(path: str, lock: int, idle: float, ready_w: int | None) -> None:
    import gc
    import signal
    import socket
    from importlib import import_module

    import pkgutil

    import svcdesk
    from svcdesk.cli import command_modules, load_commands

    ours = [m.name for m in pkgutil.walk_packages(svcdesk.__path__, "svcdesk.")
            if not m.name.endswith("__main__")]  # every module of svcdesk, and
    for name in ours + list(PRELOAD):  # what a command may import of other packages
        try:
            import_module(name)
        except ImportError:  # an optional part this machine lacks: the worker imports it
            pass
    for name in command_modules():
        load_commands(name)
    _warm()
    watched = _watched()
    from svcdesk.speed.watch import Watcher

    desks = Watcher.start()  # the desks' ticket folders (None: not on this system)
    asked, ask = os.pipe()  # workers name the desks to watch here
    os.set_blocking(asked, False)
    os.set_blocking(ask, False)
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    bound = os.stat(path).st_ino
    listener.listen(64)
    listener.settimeout(idle or None)
    os.truncate(_pidfile(path), 0)
    os.pwrite(lock, b"%d\n" % os.getpid(), 0)
    gc.freeze()  # what every worker shares stays shared (no copy-on-write from the collector)

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, stop)
    workers = set()
    signal.signal(signal.SIGCHLD, lambda *_: _reap_any(workers))  # no zombies left waiting
    _log_line(f"started pid {os.getpid()}, {len(watched)} files watched")
    if ready_w is not None:
        os.write(ready_w, b"1")
        os.close(ready_w)
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                _reap(workers)
                if not workers:
                    _log_line("idle: exiting")
                    return
                continue
            _reap(workers)
            tokens = _desk_tokens(desks, asked)
            if _changed(watched):
                conn.sendall(b"U\n")  # upgraded: the client runs it, and says so
                conn.close()
                _log_line("svcdesk or a library it uses changed: exiting")
                return
            pid = os.fork()
            if pid == 0:
                listener.close()
                os.close(asked)
                if desks is not None:
                    desks.close()
                _work(conn, tokens, ask)  # never returns
            conn.close()
            workers.add(pid)
    finally:
        if os.path.exists(path) and os.stat(path).st_ino == bound:
            os.unlink(path)
        listener.close()


def _warm(root: str | None = None) -> None:
    """Read the shipped rules (or, with ``root``, that desk's) once, keyword patterns
    included: their regexes, time zones and calendars are then cached in every worker. A
    desk's rules are held (rulecache.hold): a worker uses them while rules.yaml is
    unchanged, and otherwise reads it as usual."""
    from pathlib import Path

    from svcdesk.adapters import store
    from svcdesk.speed import rulecache

    if root is not None:
        _HELD_AT[root] = _rules_mark(root)
    try:
        if root is None:
            from datetime import datetime

            datetime.strptime("20261122", "%Y%m%d")  # ticket numbers: its regexes, compiled
            rules = store.rules_from_text(
                (store.DEFAULTS / "rules.yaml").read_text(encoding="utf-8"), "rules.yaml")
        else:
            rules = rulecache.hold(Path(root))
        for rule in rules.classify:
            for words in (rule.keywords, rule.all_keywords, rule.not_keywords):
                words.compile()
    except Exception as exc:  # noqa: BLE001 - only a warm-up: the commands say what is wrong
        _log_line(f"warm-up skipped: {exc}")


_HELD_AT: dict = {}  # desk root -> its rules.yaml (inode, mtime, size) when last held


def _rules_mark(root: str) -> tuple | None:
    try:
        info = os.stat(os.path.join(root, "rules.yaml"))
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def _rehold(roots) -> None:
    """Hold the rules again of each desk whose rules.yaml changed since they were held: its
    workers would otherwise read them from the cache file on every command."""
    for root in roots:
        if root in _HELD_AT and _rules_mark(root) != _HELD_AT[root]:
            _warm(root)


def _desk_tokens(desks, asked: int) -> dict:
    """Watch the desks workers asked about, take every change queued so far, and return the
    desks' tokens for the next worker (none without a watcher)."""
    if desks is None:
        return {}
    try:
        names = os.read(asked, 1 << 16)
    except BlockingIOError:
        names = b""
    for root in dict.fromkeys(os.fsdecode(n) for n in names.split(b"\n") if n):
        if root in desks.refused:  # said once; its commands check with git
            continue
        if desks.watch(root):
            _warm(root)
        else:
            _log_line(f"not watching {root}: {desks.refused.get(root, 'no tickets/ folder')}"
                      " (its commands check with git)")
    desks.read()
    tokens = desks.tokens()
    _rehold(tokens)
    return tokens


def _work(conn, tokens: dict, ask: int) -> None:
    """In a fresh worker: take over the caller's context, run its command line, report the
    exit code, and end without running anything of the server's."""
    import signal

    from svcdesk.speed import watch

    global _log_fd

    _log_fd = os.dup(2)  # before the caller's stderr takes descriptor 2
    code = int(ExitCode.FAILURE)
    started = time.monotonic()
    args = []
    announced = False
    try:
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _check_peer(conn)
        cwd, mask, args, environ, fds = _receive(conn)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(environ)
        time.tzset()
        os.chdir(cwd)
        os.umask(mask)
        _streams(environ)
        watch.serving(tokens, ask)
        from svcdesk.adapters import change

        change.AFTER_COMMIT.append(lambda sha: _tell(conn, b"C" + sha.encode() + b"\n"))
        conn.sendall(b"P%d\n" % os.getpid())
        announced = True
        from svcdesk.cli import main

        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException as exc:  # noqa: BLE001 - the worker must always answer
        _log_line(f"worker failed: {type(exc).__name__}: {exc}")
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:  # a worker that failed before the command began lets the caller run it itself
            conn.sendall(b"X%d\n" % code if announced else b"L\n")
        except OSError:
            pass
        command = next((a for a in args if not a.startswith("-")), "")
        _log_line(f"{command or '-'} exit {code} in {(time.monotonic() - started) * 1000:.0f} ms")
        os._exit(0)


def _tell(conn, line: bytes) -> None:
    """Say ``line`` to the client, if it still listens."""
    try:
        conn.sendall(line)
    except OSError:
        pass


def _receive(conn):
    """Read one request: (cwd, umask, args, environ, [stdin, stdout, stderr] descriptors)."""
    import array
    import socket

    fds = array.array("i")
    data, ancillary, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    if len(fds) != 3 or len(data) < 8:
        raise ValueError("a request without its three standard streams")
    size = int.from_bytes(data[:8], "big")
    if size > MAX_REQUEST:
        raise ValueError("an oversized request")
    body = data[8:]
    while len(body) < size:
        chunk = conn.recv(min(1 << 20, size - len(body)))
        if not chunk:
            raise ValueError("a truncated request")
        body += chunk
    fields = body.split(b"\0")
    if fields[0] != PROTOCOL:
        raise ValueError(f"an unknown protocol {fields[0][:20]!r}")
    cwd, mask, count = fields[1], int(fields[2]), int(fields[3])
    args = [os.fsdecode(arg) for arg in fields[4:4 + count]]
    environ = {}
    for item in fields[4 + count:]:
        key, _, value = item.partition(b"=")
        environ[os.fsdecode(key)] = os.fsdecode(value)
    return os.fsdecode(cwd), mask, args, environ, list(fds)


def _check_peer(conn) -> None:
    import socket
    import struct

    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", raw)
    if uid != os.getuid():
        raise PermissionError(f"a request from uid {uid}")


def _streams(environ: dict) -> None:
    """New sys.stdin/stdout/stderr on descriptors 0-2, encoded as a direct run would be."""
    import io

    encoding, errors = _encoding(environ)

    def text(fd, mode, errors, line_buffering):
        raw = io.FileIO(fd, mode, closefd=False)
        buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
        return io.TextIOWrapper(buffered, encoding, errors, line_buffering=line_buffering)

    sys.stdin = sys.__stdin__ = text(0, "r", errors, False)
    sys.stdout = sys.__stdout__ = text(1, "w", errors, os.isatty(1))
    sys.stderr = sys.__stderr__ = text(2, "w", "backslashreplace", True)


def _encoding(environ: dict) -> tuple[str, str]:
    """The standard streams' encoding and error handler for the caller's locale, as Python
    chooses them at start-up (PYTHONIOENCODING, UTF-8 mode, the C locale coerced to UTF-8)."""
    import codecs
    import locale

    forced = environ.get("PYTHONIOENCODING", "")
    if forced:
        encoding, _, errors = forced.partition(":")
        return encoding or "utf-8", errors or "strict"
    try:
        locale.setlocale(locale.LC_CTYPE, "")
    except locale.Error:
        locale.setlocale(locale.LC_CTYPE, "C")
    encoding = codecs.lookup(locale.getencoding()).name
    if environ.get("PYTHONUTF8") == "1" or encoding == "ascii":
        return "utf-8", "surrogateescape"
    return encoding, "strict"


def _watched() -> dict:
    """Every file the server imported, with its modification time and size."""
    seen = {}
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if name and name not in seen:
            try:
                info = os.stat(name)
            except OSError:
                continue
            seen[name] = (info.st_mtime_ns, info.st_size, info.st_ino)
    return seen


def _changed(watched: dict) -> bool:
    for name, mark in watched.items():
        try:
            info = os.stat(name)
        except OSError:
            return True
        if (info.st_mtime_ns, info.st_size, info.st_ino) != mark:
            return True
    return False


def _reap_any(workers: set) -> None:
    """Collect every ended worker (a worker collected before it was added to ``workers`` is
    found gone by _reap later)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        workers.discard(pid)


def _reap(workers: set) -> None:
    for pid in list(workers):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            workers.discard(pid)


# --- the lock that makes one server per socket, and says its pid -----------------------------

def _running() -> tuple[str, int | None]:
    """This installation's socket, and the pid of the server serving it (None: none)."""
    _, path = socket_path()
    pid = _pid(path)
    return path, None if pid is None or _claimable(path) else pid


def _pidfile(path: str) -> str:
    return path[:-len(".sock")] + ".pid"


def _log(path: str) -> str:
    return path[:-len(".sock")] + ".log"


def _claim(path: str) -> int | None:
    """Hold the server's lock file (for the server's life); None when another server does."""
    import fcntl

    fd = os.open(_pidfile(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _claimable(path: str) -> bool:
    fd = _claim(path)
    if fd is None:
        return False
    os.close(fd)
    return True


def _pid(path: str) -> int | None:
    try:
        with open(_pidfile(path), encoding="ascii") as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def _detach(log: str) -> None:
    """Leave the terminal: the working directory, standard streams and the log."""
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)


def _log_line(text: str) -> None:
    try:
        os.write(_log_fd, f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{os.getpid()}] {text}\n".encode())
    except OSError:
        pass


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = text[:-1], text[-1:]
    if text.strip() == "0":
        return 0.0
    try:
        if unit not in units or float(number) < 0:
            raise ValueError
        return float(number) * units[unit]
    except ValueError:
        raise UsageError(f"--idle: {text!r} is not a duration like 90s, 30m or 8h") from None
