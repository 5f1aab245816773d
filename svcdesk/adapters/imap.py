"""The service mailbox over IMAP (imap-tools): the messages not yet taken, each marked as
taken (flagged seen, or moved) only once the desk holds it."""

import imaplib
import ipaddress
import os
import socket
import ssl

from svcdesk.base.errors import RemoteError, UsageError

TIMEOUT = 30  # seconds to wait on the IMAP server
PASSWORD = "SVCDESK_IMAP_PASSWORD"


class Mailbox:
    """``with Mailbox(settings) as box:`` a logged-in mailbox, its folder selected
    (``settings``: rules.yaml's mail.imap)."""

    def __init__(self, settings: dict):
        self.settings = settings
        self.host = settings["host"]
        self.security = settings.get("security", "ssl")
        self.port = settings.get("port") or (993 if self.security == "ssl" else 143)
        self.folder = settings.get("folder", "INBOX")
        self.done_how = settings.get("done", "seen")
        self._box = None

    def __enter__(self):
        import imap_tools

        password = os.environ.get(PASSWORD)
        if not password:
            raise UsageError(f"set {PASSWORD} to the password of {self.settings['user']} "
                             f"on {self.host} (rules.yaml holds no passwords)")
        if self.security == "plain" and not _loopback(self.host):
            raise UsageError(f"mail.imap.security: plain sends the password in clear; it is "
                             f"for a server on this machine only, not {self.host}")
        context = ssl.create_default_context(cafile=self.settings.get("cafile"))
        where = f"{self.host}:{self.port}"
        try:
            if self.security == "ssl":
                box = imap_tools.MailBox(self.host, self.port, timeout=TIMEOUT,
                                         ssl_context=context)
            elif self.security == "starttls":
                box = imap_tools.MailBoxStartTls(self.host, self.port, timeout=TIMEOUT,
                                                 ssl_context=context)
            else:
                box = imap_tools.MailBoxUnencrypted(self.host, self.port, timeout=TIMEOUT)
        except (OSError, ssl.SSLError) as exc:
            raise RemoteError(f"cannot reach the mailbox at {where}: {_said(exc)}; nothing "
                              "was taken, cron's next run tries again") from None
        user = self.settings["user"]
        # LOGIN quotes ASCII only; a Chinese password goes by AUTHENTICATE PLAIN (UTF-8)
        login = box.login if (user + password).isascii() else box.login_utf8
        try:
            login(user, password, initial_folder=self.folder)
        except (imap_tools.errors.MailboxLoginError, imaplib.IMAP4.error):
            box.logout()
            raise RemoteError(f"{where} refused the login of {self.settings['user']} (check "
                              f"{PASSWORD})") from None
        except imap_tools.errors.MailboxFolderSelectError:
            box.logout()
            raise UsageError(f"{where} has no folder {self.folder!r} "
                             "(mail.imap.folder)") from None
        self._box = box
        return self

    def __exit__(self, *exc):
        box, self._box = self._box, None
        if box is not None:
            try:
                box.logout()
            except Exception:  # the connection is gone anyway
                pass
        return False

    def waiting(self, limit: int) -> list:
        """[(uid, message bytes exactly as the server holds them)] of at most ``limit``
        messages not yet taken (unseen), oldest first, left unseen until ``taken``."""
        from imap_tools import AND

        try:
            out = []
            for uid in self._box.uids(AND(seen=False))[:limit]:
                status, data = self._box.client.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((part[1] for part in data or () if isinstance(part, tuple)), None)
                if status == "OK" and raw is not None:
                    out.append((uid, raw))
            return out
        except (OSError, ssl.SSLError) as exc:
            raise RemoteError(f"the mailbox at {self.host} stopped answering: "
                              f"{_said(exc)}") from None

    def taken(self, uid: str) -> None:
        """Mark a message taken: flag it seen, or move it (mail.imap.done)."""
        from imap_tools import MailMessageFlags

        if self.done_how.startswith("move:"):
            target = self.done_how[len("move:"):]
            if not self._box.folder.exists(target):
                self._box.folder.create(target)
            self._box.move(uid, target)
        else:
            self._box.flag(uid, MailMessageFlags.SEEN, True)


def _loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def _said(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
