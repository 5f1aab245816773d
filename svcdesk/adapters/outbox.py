"""The outbox (``.git/svcdesk/outbox``) and SMTP delivery.

Each notice is two files named after it: ``NAME.json`` (what it is, its state, the last
error, the attempts and when to try again) and, once rendered, ``NAME.eml`` (the message)
or, for a channel besides email, ``NAME.msg`` (its title and text, as JSON). States:
``pending`` (rendered, not yet delivered), ``failed`` (the template could not render;
re-rendered by the next send) and ``sent`` (delivered, not yet recorded on its ticket). Without SMTP, pending messages stay
here as .eml files for another program (or a person) to pick up.
"""

import json
import os
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from svcdesk.base.errors import DeliveryError, UsageError
from svcdesk.adapters.store import fsync_dir, write_atomic

TIMEOUT = 20  # seconds to wait on an SMTP server
SYNC_ONE_BY_ONE = 16  # more files than this are made durable with one sync()


@dataclass(frozen=True)
class Entry:
    """One notice in the outbox."""

    stem: str
    meta: dict
    path: Path

    @property
    def state(self) -> str:
        return self.meta.get("state", "pending")

    @property
    def channel(self) -> str:
        """email, or the name of the channel under notices.channels it goes by."""
        return self.meta["to"].get("channel", "email")

    @property
    def address(self) -> str:
        """The email address, phone or channel name it goes to."""
        to = self.meta["to"]
        return to.get("address") or to.get("email") or ""

    def message_bytes(self) -> bytes | None:
        """The message as rendered: an .eml, or a channel's .msg (JSON title and text)."""
        suffix = ".eml" if self.channel == "email" else ".msg"
        try:
            return self.path.with_suffix(suffix).read_bytes()
        except FileNotFoundError:
            return None


class Outbox:
    """The notices waiting to go out."""

    def __init__(self, folder: Path):
        """The outbox kept in ``folder`` (adapters.state.State.outbox)."""
        self.path = folder
        self._unsynced: list = []  # files put since the last sync

    def put(self, stem: str, meta: dict, message: bytes | None) -> Entry:
        """Queue a notice (its message, or with None, its failure to render): an email's
        as NAME.eml, a channel's as NAME.msg."""
        self.path.mkdir(parents=True, exist_ok=True)
        suffix = ".eml" if meta["to"].get("channel", "email") == "email" else ".msg"
        if message is not None:
            write_atomic(self.path / f"{stem}{suffix}", message, sync=False, sync_dir=False)
            self._unsynced.append(self.path / f"{stem}{suffix}")
        else:
            (self.path / f"{stem}{suffix}").unlink(missing_ok=True)
        write_atomic(self.path / f"{stem}.json",
                     json.dumps(meta, ensure_ascii=False, indent=1).encode(), sync=False,
                     sync_dir=False)
        self._unsynced.append(self.path / f"{stem}.json")
        return Entry(stem, meta, self.path / f"{stem}.json")

    def sync(self) -> None:
        """Make the notices put since the last sync durable: a few files one by one, a batch
        (sla check may queue hundreds) with one sync() instead of an fsync per file."""
        written, self._unsynced = self._unsynced, []
        if len(written) > SYNC_ONE_BY_ONE:
            os.sync()
        elif written:
            for path in written:
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            fsync_dir(self.path)

    def mark(self, entry: Entry, **changes) -> Entry:
        """Update an entry's state or error."""
        meta = {**entry.meta, **changes}
        write_atomic(entry.path, json.dumps(meta, ensure_ascii=False, indent=1).encode())
        return Entry(entry.stem, meta, entry.path)

    def remove(self, entry: Entry) -> None:
        """Drop a notice once it is recorded on its ticket."""
        for suffix in (".eml", ".msg"):
            entry.path.with_suffix(suffix).unlink(missing_ok=True)
        entry.path.unlink(missing_ok=True)

    def sweep(self) -> list:
        """Remove the messages with no notice file: a process killed between writing the
        two (under the desk lock, so none is being written now). Returns their paths."""
        if not self.path.is_dir():
            return []
        gone = [p for p in [*self.path.glob("*.eml"), *self.path.glob("*.msg")]
                if not p.with_suffix(".json").exists()]
        for path in gone:
            path.unlink(missing_ok=True)
        return gone

    def entries(self) -> list:
        """Every notice in the outbox, oldest first."""
        if not self.path.is_dir():
            return []
        out = []
        for path in sorted(self.path.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns,
                                                                   p.name)):
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # half-written by a process that died: its notice is requeued
            out.append(Entry(path.stem, meta, path))
        return out


class _NotMarked(Exception):
    """What marking a sent message raised, carried past the SMTP error handling."""


@dataclass(frozen=True)
class Smtp:
    """Where notices are delivered: from SVCDESK_SMTP_URL or rules.yaml's notices.smtp."""

    host: str
    port: int
    tls: str  # none, starttls, ssl
    user: str | None
    password: str | None

    @staticmethod
    def from_url(url: str, where: str) -> "Smtp":
        """Parse smtp://user@host:587?starttls=1 or smtps://host:465; the password comes
        only from SVCDESK_SMTP_PASSWORD."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise UsageError(f"{where}: {url!r} is not an SMTP address like "
                             "smtp://user@host:587?starttls=1 or smtps://host:465")
        if parts.password:
            raise UsageError(f"{where}: put the password in SVCDESK_SMTP_PASSWORD, not in "
                             "the address")
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        tls = "ssl" if parts.scheme == "smtps" else ("starttls" if starttls else "none")
        try:
            port = parts.port or (465 if tls == "ssl" else 587 if starttls else 25)
        except ValueError:
            raise UsageError(f"{where}: {url!r} has a bad port") from None
        user = unquote(parts.username) if parts.username else None
        return Smtp(parts.hostname, port, tls, user,
                    os.environ.get("SVCDESK_SMTP_PASSWORD") if user else None)

    def describe(self) -> str:
        return f"{self.host}:{self.port}"

    def send(self, messages: list, on_sent=None) -> tuple:
        """Deliver [(entry, bytes, sender, recipients)]; return (sent entries, error or
        None). Stops at the first failure: the rest stay queued. ``on_sent(entry)``, called
        the moment the server took each one, gives the entry to return (the outbox marks it
        sent there, so a run killed midway sends none of the taken ones again); what it
        raises is raised as it is."""
        sent = []
        context = ssl.create_default_context()
        if os.environ.get("SVCDESK_SMTP_INSECURE"):  # a test server with its own certificate
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        try:
            if self.tls == "ssl":
                server = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT,
                                          context=context)
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
            with server:
                if self.tls == "starttls":
                    server.starttls(context=context)
                if self.user:
                    if not self.password:
                        raise DeliveryError(f"SMTP {self.describe()}: user {self.user} needs "
                                            "a password in SVCDESK_SMTP_PASSWORD")
                    server.login(self.user, self.password)
                for entry, data, sender, to in messages:
                    server.sendmail(sender, to, data)
                    try:
                        sent.append(on_sent(entry) if on_sent else entry)
                    except Exception as exc:
                        raise _NotMarked() from exc
        except _NotMarked as exc:
            raise exc.__cause__ from None
        except DeliveryError as exc:
            return sent, str(exc)
        except smtplib.SMTPAuthenticationError as exc:
            return sent, f"SMTP {self.describe()}: login refused ({exc.smtp_code})"
        except smtplib.SMTPException as exc:
            return sent, f"SMTP {self.describe()}: {exc}"
        except OSError as exc:
            return sent, f"SMTP {self.describe()} unreachable: {exc.strerror or exc}"
        return sent, None
