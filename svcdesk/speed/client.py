"""The svcdesk command: hand the command line to a running `svcdesk server`, else run it here.

A served command skips Python's imports (click, PyYAML, the rules engine: about 200 ms on a
slow machine): the server, which has imported them once, forks a worker that takes this
process's working directory, environment, umask and its stdin, stdout and stderr themselves
(passed over a Unix socket), runs the command exactly as `svcdesk.cli.main` would, and sends
back the exit code. Ctrl-C and kill are passed on to the worker.

Until the hand-over only built-in modules are imported (``_socket`` and ``_signal``, not the
``socket`` and ``signal`` wrappers, which import enum and selectors), so a served command
costs little more than the interpreter's own start.
"""

import os
import sys

PROTOCOL = b"svcdesk-1"
# never served: managing the server itself, and $EDITOR sessions (an editor wants to be in
# the terminal's foreground, which a worker of the server is not)
LOCAL = frozenset({"server", "edit", "--edit"})
OFF = ("0", "off", "no", "false")  # SVCDESK_SERVER: this command runs on its own


def socket_path(environ=os.environ) -> tuple[str, str]:
    """The server's folder (the user's own, mode 0700) and socket for this installation.

    One server per user and installation: the name carries a checksum of the environment (sys.prefix) and
    the package's folder, so a second virtualenv or a source checkout never reaches another's.
    """
    from zlib import crc32

    base = environ.get("XDG_RUNTIME_DIR") or "/tmp"
    folder = os.path.join(base, f"svcdesk-{os.getuid()}")
    tag = crc32(f"{sys.prefix}\0{os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}".encode())
    return folder, os.path.join(folder, f"server-{tag:08x}.sock")


def trusted(folder: str) -> bool:
    """Whether ``folder`` is this user's alone (else its socket could be anyone's)."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & 0o077 and os.path.isdir(folder)


def request(args: list[str]) -> bytes:
    """The request: protocol, working directory, umask, arguments, environment."""
    mask = os.umask(0o022)
    os.umask(mask)
    fields = [PROTOCOL, os.getcwdb(), b"%d" % mask, b"%d" % len(args),
              *(os.fsencode(arg) for arg in args),
              *(key + b"=" + value for key, value in os.environb.items())]
    body = b"\0".join(fields)
    return len(body).to_bytes(8, "big") + body


def served(args: list[str]) -> int | None:
    """Run ``args`` in the server; its exit code, or None when no server took it."""
    if os.environ.get("SVCDESK_SERVER", "").lower() in OFF or LOCAL.intersection(args):
        return None
    folder, path = socket_path()
    if not trusted(folder):
        return None
    for fd in (0, 1, 2):  # a closed one would be filled by the socket itself: run here
        try:
            os.fstat(fd)
        except OSError:
            return None
    import _signal
    import _socket

    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.connect(path)
        fds = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in (0, 1, 2))
        conn.sendmsg([request(args)], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
    except OSError:  # no server, or a closed stdin/stdout: run here
        conn.close()
        return None

    worker = []
    pending = []
    committed = []

    def forward(signum, _frame):
        if worker:
            os.kill(worker[0], signum)
        else:
            pending.append(signum)

    for signum in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT):
        _signal.signal(signum, forward)
    code = None
    for line in _lines(conn):
        if line == b"L":  # the worker could not begin: run here
            break
        if line == b"U":  # the server is older than the code, and exits: run here, and say
            os.write(2, b"svcdesk: the command server stopped, as svcdesk or a library it "
                        b"uses changed; start it again with `svcdesk server start`\n")
            break
        if line[:1] == b"P":
            worker.append(int(line[1:]))
            for signum in pending:
                os.kill(worker[0], signum)
        elif line[:1] == b"C":  # the command's change is committed: it stands, whatever comes
            committed.append(line[1:])
        elif line[:1] == b"X":
            code = int(line[1:])
            break
    conn.close()
    if code is not None:
        return code
    if not worker:  # nothing ran: run here, with Python's own signal handling
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        for signum in (_signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT):
            _signal.signal(signum, _signal.SIG_DFL)
        return None
    if committed:  # running it again would make the change twice
        os.write(2, b"Error: the svcdesk server's worker ended after its change was committed "
                    b"(" + committed[-1][:12] + b"): the change stands; do not run the command "
                    b"again, see `git log -1` (and report it)\n")
        return 1
    os.write(2, b"Error: the svcdesk server's worker ended without finishing, before any change "
                b"was committed; run the command again (or set SVCDESK_SERVER=0 and report it)\n")
    return 1


def _lines(conn):
    """The server's reply, line by line, until it closes."""
    data = b""
    while True:
        try:
            chunk = conn.recv(256)
        except OSError:
            return
        if not chunk:
            return
        *complete, data = (data + chunk).split(b"\n")
        yield from complete
