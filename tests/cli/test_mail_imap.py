"""`svcdesk mail fetch` against a real IMAP server: Dovecot from Debian's packages, started
by the test on 127.0.0.1 with a mailbox of its own (plain IMAP, and STARTTLS with a CA of
the test's making). .ci/run installs Dovecot."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from conftest import commit_count

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "service@example.com", "s3cret-密码"

pytestmark = pytest.mark.slow  # a server


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dovecot():
    """A private Dovecot: (port, folder of its files). Mail is kept as the `dovecot` user
    (Dovecot never keeps mail as root)."""
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
    port = _port()
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
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port, base
    subprocess.run(("doveadm", "-c", str(base / "dovecot.conf"), "stop"),
                   capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


def deliver(port, *messages):
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted("127.0.0.1", port).login_utf8(USER, PASSWORD) as box:
        for raw in messages:
            box.append(raw, "INBOX")


def mailbox_state(port) -> dict:
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted("127.0.0.1", port).login_utf8(USER, PASSWORD) as box:
        out = {"INBOX": [(m.subject, "\\Seen" in m.flags) for m in box.fetch(mark_seen=False)]}
        if box.folder.exists("Done"):
            box.folder.set("Done")
            out["Done"] = [m.subject for m in box.fetch(mark_seen=False)]
        return out


def point_at(desk, port, **more):
    path = desk.root / "rules.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules["mail"] = {"imap": {"host": "127.0.0.1", "port": port, "user": USER,
                              "security": "plain", **more}}
    path.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")


def raw(subject: str, n: int, sender="zhang.san@example.cn", **extra) -> bytes:
    headers = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
    return (f"From: 张三 <{sender}>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            f"Message-ID: <imap{n}@mail.example.cn>\r\n{headers}"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n请问{subject}\r\n").encode()


def test_fetch_takes_new_mail_once_and_marks_it_only_when_the_desk_holds_it(
        desk, run, dovecot, monkeypatch):
    port, _ = dovecot
    point_at(desk, port)
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", PASSWORD)
    deliver(port, raw("保修期多久", 1), raw("发票怎么开", 2),
            raw("自动回复", 3, Auto_Submitted="auto-replied"))
    result = run("mail", "fetch")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""  # cron hears nothing
    titles = sorted(yaml.safe_load(p.read_text(encoding="utf-8"))["title"]
                    for p in desk.root.glob("tickets/*/*/*.yaml"))
    assert titles == ["保修期多久", "发票怎么开"]
    assert mailbox_state(port)["INBOX"] == [("保修期多久", True), ("发票怎么开", True),
                                            ("自动回复", True)]
    before = commit_count(desk.root)
    assert run("mail", "fetch").exit_code == 0 and commit_count(desk.root) == before
    # the same message delivered again (a client's resend) is not taken twice
    deliver(port, raw("保修期多久", 1))
    assert run("mail", "fetch").exit_code == 0 and commit_count(desk.root) == before


def test_taken_mail_can_be_moved_to_a_folder(desk, run, dovecot, monkeypatch):
    port, _ = dovecot
    point_at(desk, port, done="move:Done")
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", PASSWORD)
    deliver(port, raw("保修期多久", 4))
    assert run("mail", "fetch").exit_code == 0
    assert mailbox_state(port) == {"INBOX": [], "Done": ["保修期多久"]}


def test_starttls_with_the_desks_own_ca(desk, run, dovecot, monkeypatch):
    port, base = dovecot
    point_at(desk, port, security="starttls", cafile=str(base / "cert.pem"))
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", PASSWORD)
    deliver(port, raw("保修期多久", 5))
    result = run("mail", "fetch")
    assert result.exit_code == 0, result.stderr
    assert len(list(desk.root.glob("tickets/*/*/*.yaml"))) == 1


def test_a_wrong_password_or_an_unreachable_server_is_one_line_and_takes_nothing(
        desk, run, dovecot, monkeypatch):
    from svcdesk.base.errors import ExitCode

    port, _ = dovecot
    point_at(desk, port)
    deliver(port, raw("保修期多久", 6))
    assert "SVCDESK_IMAP_PASSWORD" in run("mail", "fetch").stderr  # none set
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", "wrong")
    refused = run("mail", "fetch")
    assert refused.exit_code == ExitCode.REMOTE and "refused the login" in refused.stderr
    point_at(desk, _port())
    gone = run("mail", "fetch")
    assert gone.exit_code == ExitCode.REMOTE and len(gone.stderr.splitlines()) == 1
    assert not list(desk.root.glob("tickets/*/*/*.yaml"))
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", PASSWORD)
    point_at(desk, port)
    assert mailbox_state(port)["INBOX"] == [("保修期多久", False)]  # still there to take
