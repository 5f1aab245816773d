"""Real mail servers on 127.0.0.1 for the tests: an SMTP server (aiosmtpd) that keeps what it
receives, and a private Dovecot (from Debian's packages; .ci/run installs it) with one mailbox."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import yaml

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "service@example.com", "s3cret-密码"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int, seconds: float = 10) -> None:
    """Wait until a server listens on 127.0.0.1:``port`` (at most ``seconds``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)


class Inbox:
    """What the SMTP server received: (envelope recipients, raw message)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def parsed(self):
        return [(to, message_from_bytes(data, policy=policy.default))
                for to, data in self.messages]


def start_server(port, authenticator=None):
    """An SMTP server on ``port``: (its controller, to stop it; its Inbox)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    extra = {"authenticator": authenticator, "auth_require_tls": False} if authenticator else {}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **extra)
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server the desk sends through (SVCDESK_SMTP_URL): its Inbox."""
    port = free_port()
    controller, inbox = start_server(port)
    monkeypatch.setenv("SVCDESK_SMTP_URL", f"smtp://127.0.0.1:{port}")
    yield inbox
    controller.stop()


@contextmanager
def running_dovecot():
    """A private Dovecot: (port, folder of its files), IMAP and STARTTLS with a certificate
    of its own. Mail is kept as the `dovecot` user (Dovecot never keeps mail as root)."""
    if not os.path.exists(DOVECOT):
        pytest.fail("Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    # outside pytest's folders, which only root may enter: the mail processes pass through
    base = Path(tempfile.mkdtemp(prefix="svcdesk-dovecot-"))
    base.chmod(0o711)
    home = base / "home"
    home.mkdir()
    mail_user = pwd.getpwnam("dovecot")
    os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
    (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    subprocess.run(("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(base / "key.pem"), "-out", str(base / "cert.pem")),
                   check=True, capture_output=True)
    port = free_port()
    (base / "dovecot.conf").write_text(f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {mail_user.pw_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
service auth {{
  user = root
}}
service auth-worker {{
  user = root
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""", encoding="utf-8")
    subprocess.run((DOVECOT, "-c", str(base / "dovecot.conf")), check=True)
    listening(port)
    try:
        yield port, base
    finally:
        subprocess.run(("doveadm", "-c", str(base / "dovecot.conf"), "stop"),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dovecot():
    """A private Dovecot for one test: (port, folder of its files)."""
    with running_dovecot() as server:
        yield server


def deliver(port, *messages):
    """Put ``messages`` (raw bytes) in the mailbox's INBOX."""
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted("127.0.0.1", port).login_utf8(USER, PASSWORD) as box:
        for raw in messages:
            box.append(raw, "INBOX")


def request_mail(n: int) -> bytes:
    """A customer's request by mail, the ``n``th: its subject 邮件报修 n, its own sender."""
    return (f"From: 客户{n} <customer{n}@example.cn>\r\nTo: {USER}\r\n"
            f"Subject: 邮件报修 {n}\r\nMessage-ID: <fault{n}@mail.example.cn>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"打印机第 {n} 次卡纸，请派人来看看\r\n").encode()


def point_at(root: Path, port, **more):
    """Point the desk at ``root`` to the mailbox (rules.yaml mail.imap)."""
    path = root / "rules.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules["mail"] = {"imap": {"host": "127.0.0.1", "port": port, "user": USER,
                              "security": "plain", **more}}
    path.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
