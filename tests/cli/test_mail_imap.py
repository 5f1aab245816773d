"""`svcdesk mail fetch` against a real IMAP server: Dovecot from Debian's packages, started
by the test on 127.0.0.1 with a mailbox of its own (plain IMAP, and STARTTLS with a CA of
the test's making). .ci/run installs Dovecot."""

import pytest
import yaml

from conftest import commit_count
from servers import PASSWORD, USER, deliver, dovecot, free_port, point_at  # noqa: F401

pytestmark = pytest.mark.slow  # a server


def mailbox_state(port) -> dict:
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted("127.0.0.1", port).login_utf8(USER, PASSWORD) as box:
        out = {"INBOX": [(m.subject, "\\Seen" in m.flags) for m in box.fetch(mark_seen=False)]}
        if box.folder.exists("Done"):
            box.folder.set("Done")
            out["Done"] = [m.subject for m in box.fetch(mark_seen=False)]
        return out


def raw(subject: str, n: int, sender="zhang.san@example.cn", **extra) -> bytes:
    headers = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
    return (f"From: 张三 <{sender}>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            f"Message-ID: <imap{n}@mail.example.cn>\r\n{headers}"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n请问{subject}\r\n").encode()


def test_fetch_takes_new_mail_once_and_marks_it_only_when_the_desk_holds_it(
        desk, run, dovecot, monkeypatch):
    port, _ = dovecot
    point_at(desk.root, port)
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
    point_at(desk.root, port, done="move:Done")
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", PASSWORD)
    deliver(port, raw("保修期多久", 4))
    assert run("mail", "fetch").exit_code == 0
    assert mailbox_state(port) == {"INBOX": [], "Done": ["保修期多久"]}


def test_starttls_with_the_desks_own_ca(desk, run, dovecot, monkeypatch):
    port, base = dovecot
    point_at(desk.root, port, security="starttls", cafile=str(base / "cert.pem"))
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", PASSWORD)
    deliver(port, raw("保修期多久", 5))
    result = run("mail", "fetch")
    assert result.exit_code == 0, result.stderr
    assert len(list(desk.root.glob("tickets/*/*/*.yaml"))) == 1


def test_a_wrong_password_or_an_unreachable_server_is_one_line_and_takes_nothing(
        desk, run, dovecot, monkeypatch):
    from svcdesk.base.errors import ExitCode

    port, _ = dovecot
    point_at(desk.root, port)
    deliver(port, raw("保修期多久", 6))
    assert "SVCDESK_IMAP_PASSWORD" in run("mail", "fetch").stderr  # none set
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", "wrong")
    refused = run("mail", "fetch")
    assert refused.exit_code == ExitCode.REMOTE and "refused the login" in refused.stderr
    point_at(desk.root, free_port())
    gone = run("mail", "fetch")
    assert gone.exit_code == ExitCode.REMOTE and len(gone.stderr.splitlines()) == 1
    assert not list(desk.root.glob("tickets/*/*/*.yaml"))
    monkeypatch.setenv("SVCDESK_IMAP_PASSWORD", PASSWORD)
    point_at(desk.root, port)
    assert mailbox_state(port)["INBOX"] == [("保修期多久", False)]  # still there to take
