"""Notices over HTTP: group robots, SMS gateways and webhooks, by httpx.

One request per notice, signed as its platform checks it at the moment it is sent (钉钉
and 飞书 refuse a signature more than an hour old, so it is never made at render time).
Secrets and addresses come from the environment variables rules.yaml names. Redirects are
never followed (a robot's address that moved is a configuration to fix, and following one
to another host would hand it the message); an answer is read up to ANSWER_BYTES; every
error names the channel and its host, never the address's key.
"""

import json
import os
import time
from datetime import datetime, timezone
from urllib.parse import quote, quote_plus, urlsplit

from svcdesk.domain import channels as CH

TIMEOUT = 10.0  # seconds for the whole request
ANSWER_BYTES = 64 * 1024


class Sender:
    """Sends channel messages; one HTTP client (and its connections) per delivery run."""

    def __init__(self, render, env=None, timeout: float = TIMEOUT):
        """``render(source, context, where)`` renders an HTTP gateway's request templates
        (the notices' sandbox)."""
        self.render = render
        self.env = os.environ if env is None else env
        self.timeout = timeout
        self._client = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def send(self, channel: CH.Channel, address: str, message: dict) -> str | None:
        """Send one message (``message``: its title, text and facts as queued) to
        ``address`` (a phone for SMS, else the channel's own name); return why it failed,
        or None once the platform took it."""
        from svcdesk.base.errors import TemplateError

        try:
            request = self._request(channel, address, message)
        except (_Unusable, TemplateError) as exc:
            return f"{channel.describe()}: {exc}"
        method, url, headers, body = request
        where = channel.describe(urlsplit(url).hostname)
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False,
                                        trust_env=False)
        try:
            with self._client.stream(method, url, headers=headers, content=body) as answer:
                data = b""
                for chunk in answer.iter_bytes():
                    data += chunk
                    if len(data) >= ANSWER_BYTES:
                        break
                status = answer.status_code
                moved = answer.headers.get("location") if answer.is_redirect else None
        except httpx.TimeoutException:
            return f"{where}: no answer in {self.timeout:g} s"
        except httpx.HTTPError as exc:
            return f"{where}: unreachable ({type(exc).__name__}: {_plain(exc)})"
        if moved is not None:
            host = urlsplit(moved).hostname or "the same host"
            return f"{where}: answered HTTP {status}, a redirect to {host} (not followed)"
        why = CH.answer_error(channel, status, data)
        return f"{where}: {why}" if why else None

    # ---- the request each platform documents ----------------------------------------------

    def _request(self, channel: CH.Channel, address: str, message: dict) -> tuple:
        """(method, url, headers, body bytes) of one message."""
        title, text = message["title"], message["text"]
        secret = self._variable(channel.secret_env) if channel.secret_env else None
        json_headers = {"Content-Type": "application/json; charset=utf-8"}
        if channel.kind == "sms":
            return self._sms(channel, address, text, secret)
        url = self._address(channel)
        body = CH.message(channel, title, text, message.get("facts"))
        now = time.time()
        if channel.kind == "dingtalk" and secret:
            stamp = int(now * 1000)
            url += ("&" if "?" in url else "?") + \
                f"timestamp={stamp}&sign={quote_plus(CH.dingtalk_sign(secret, stamp))}"
        if channel.kind == "feishu" and secret:
            stamp = int(now)
            body = {"timestamp": str(stamp), "sign": CH.feishu_sign(secret, stamp), **body}
        data = json.dumps(body, ensure_ascii=False).encode()
        if channel.kind == "webhook" and secret:
            stamp = int(now)
            json_headers.update({"X-Svcdesk-Timestamp": str(stamp),
                                 "X-Svcdesk-Signature": CH.webhook_sign(secret, stamp, data)})
        return "POST", url, json_headers, data

    def _sms(self, channel: CH.Channel, phone: str, text: str, secret) -> tuple:
        if channel.gateway == "aliyun":
            params = CH.aliyun_sms_params(self._variable(channel.key_id_env), phone,
                                          channel.sign_name, channel.template_code, text,
                                          datetime.now(timezone.utc))
            base = channel.url or (self._variable(channel.url_env) if channel.url_env
                                   else CH.ALIYUN_SMS)
            return "GET", f"{base}?{aliyun_query(params, secret)}", {}, b""
        request = channel.request
        context = {"phone": phone, "text": text, "secret": secret or ""}
        where = f"rules.yaml: notices.channels.{channel.name}.request"
        headers = {k: self.render(v, context, f"{where}.headers.{k}")
                   for k, v in request.get("headers", {}).items()}
        body = self.render(request.get("body", ""), context, f"{where}.body").encode()
        return request.get("method", "POST"), self._address(channel), headers, body

    def _address(self, channel: CH.Channel) -> str:
        url = channel.url or self._variable(channel.url_env)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Unusable(f"{channel.url_env} does not hold an http(s) address")
        return url

    def _variable(self, name: str) -> str:
        value = self.env.get(name, "").strip()
        if not value:
            raise _Unusable(f"the environment variable {name} is not set")
        return value


def percent(text: str) -> str:
    """RFC 3986 percent-encoding as Aliyun's signatures use it (space %20, ~ kept)."""
    return quote(text, safe="-_.~")


def aliyun_query(params: dict, key_secret: str, method: str = "GET") -> str:
    """The signed query string of an Aliyun RPC request (signature version 1.0:
    HMAC-SHA1 keyed by "secret&" over METHOD&%2F&encoded sorted parameters)."""
    canonical = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))
    return f"Signature={percent(CH.aliyun_sign(key_secret, method, canonical))}&{canonical}"


class _Unusable(Exception):
    """A channel that cannot be used as the environment stands (a variable not set)."""


def _plain(exc: Exception) -> str:
    """An httpx error said without the request's address (it may hold a key)."""
    text = str(exc).split("\n")[0]
    return text.split(" for url ")[0][:160] or type(exc).__name__
