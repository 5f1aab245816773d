"""Notice channels besides email: the group robots of 钉钉 (DingTalk), 企业微信 (WeChat Work)
and 飞书 (Feishu/Lark), SMS through Aliyun or any HTTP gateway, and a generic JSON webhook.

What is pure lives here: a channel's declaration, each platform's message and request in the
form it documents (signatures included), its length limit, and what its answer means.
adapters/webhooks sends the requests; secrets come in from the environment, never from
rules.yaml, and never go out in an error."""

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone

from svcdesk.base.errors import TemplateError

KINDS = ("dingtalk", "wecom", "feishu", "sms", "webhook")
NAMES = {"dingtalk": "钉钉", "wecom": "企业微信", "feishu": "飞书", "sms": "SMS",
         "webhook": "webhook"}
ALIYUN_SMS = "https://dysmsapi.aliyuncs.com/"

# What each platform takes in one message: bytes of UTF-8 for the robots (企业微信: markdown
# content 4,096 bytes, text 2,048; 飞书: a request body of 20 KB; 钉钉: 20,000 bytes of
# text), the whole body for a webhook.
LIMITS = {("wecom", "markdown"): 4096, ("wecom", "text"): 2048, ("dingtalk", None): 20000,
          ("feishu", None): 20 * 1024, ("webhook", None): 64 * 1024}
# the layouts each kind takes, its default first
FORMATS = {"dingtalk": ("markdown", "text"), "wecom": ("markdown", "text"),
           "feishu": ("card", "text"), "sms": ("text",), "webhook": ("markdown", "text")}
SMS_SINGLE, SMS_PART = 70, 67  # UCS-2 characters: one message, a part of a long one
GSM_SINGLE, GSM_PART = 160, 153  # plain ASCII text
_SECRET_QUERY = re.compile(r"[?&](access_token|key|token|secret|sign)=", re.I)
_ADDRESS = re.compile(r"https?://(?:[^/?#@\s]*@)?[^/?#@\s:]+(?::\d+)?(?:[/?#]\S*)?", re.I)


class ChannelSpecError(ValueError):
    """A channel's declaration is wrong; ``key`` is where, under the channel."""

    def __init__(self, message: str, key: tuple = ()):
        super().__init__(message)
        self.key = key


class MessageTooLongError(TemplateError):
    """A rendered message is more than its platform takes (its template's to shorten)."""


@dataclass(frozen=True)
class Channel:
    """One channel as rules.yaml declares it (notices.channels.NAME)."""

    name: str
    kind: str
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None
    format: str = "markdown"
    gateway: str | None = None  # sms: aliyun or http
    key_id_env: str | None = None
    sign_name: str | None = None
    template_code: str | None = None
    request: dict = field(default_factory=dict)
    ok: dict = field(default_factory=dict)
    parts: int = 3

    @property
    def group(self) -> bool:
        """Whether it is a recipient itself (a group or an endpoint), not a way to reach
        a person (SMS)."""
        return self.kind != "sms"

    def describe(self, host: str | None = None) -> str:
        """How errors name it: kind, name and host, never the address's secrets."""
        return f"{NAMES[self.kind]} channel {self.name}" + (f" ({host})" if host else "")

    def limit(self) -> int | None:
        """Bytes one message may take (None for SMS, counted in parts)."""
        return LIMITS.get((self.kind, self.format), LIMITS.get((self.kind, None)))


def compile_channel(name: str, spec: dict) -> Channel:
    """A checked Channel from its declaration; ChannelSpecError names the key at fault."""
    kind = spec["kind"]
    url = spec.get("url")
    if url is not None:
        if not _ADDRESS.fullmatch(url):
            raise ChannelSpecError(f"{url!r} is not an http(s) address", ("url",))
        if _SECRET_QUERY.search(url) or "@" in url.split("/")[2]:
            raise ChannelSpecError("this address holds a secret: put it in an environment "
                                   "variable and name it with url_env:", ("url",))
    if url is None and spec.get("url_env") is None and not (
            kind == "sms" and spec.get("gateway") == "aliyun"):
        raise ChannelSpecError(f"a {kind} channel needs url_env: (or url:)", ())
    allowed = FORMATS[kind]
    fmt = spec.get("format", allowed[0])
    if fmt not in allowed:
        raise ChannelSpecError(f"a {kind} channel takes format " + " or ".join(allowed),
                               ("format",))
    gateway = spec.get("gateway")
    if kind == "sms":
        if gateway is None:
            raise ChannelSpecError("an sms channel needs gateway: aliyun or http", ())
        needs = {"aliyun": ("key_id_env", "secret_env", "sign_name", "template_code"),
                 "http": ("request",)}[gateway]
        for key in needs:
            if not spec.get(key):
                raise ChannelSpecError(f"an sms channel through {gateway} needs {key}:", ())
    elif gateway is not None or spec.get("request") or spec.get("ok"):
        raise ChannelSpecError(f"gateway, request and ok are for sms channels, not {kind}", ())
    if kind == "wecom" and spec.get("secret_env"):
        raise ChannelSpecError("企业微信 robots sign nothing: the key is in the address "
                               "(url_env:)", ("secret_env",))
    return Channel(name, kind, url, spec.get("url_env"), spec.get("secret_env"), fmt, gateway,
                   spec.get("key_id_env"), spec.get("sign_name"), spec.get("template_code"),
                   dict(spec.get("request") or {}), dict(spec.get("ok") or {}),
                   spec.get("parts", 3))


# ---- what a message may hold ----------------------------------------------------------------


def sms_parts(text: str) -> int:
    """How many SMS a text takes: 70 characters in one (160 of plain ASCII), 67 (153) per
    part once it is split."""
    plain = all(" " <= c <= "~" or c == "\n" for c in text)
    single, part = (GSM_SINGLE, GSM_PART) if plain else (SMS_SINGLE, SMS_PART)
    return 1 if len(text) <= single else -(-len(text) // part)


def check_length(channel: Channel, title: str, text: str) -> None:
    """Raise MessageTooLongError, naming the channel and the platform's limit, when the message
    is more than it takes."""
    if channel.kind == "sms":
        parts = sms_parts(text)
        if parts > channel.parts:
            raise MessageTooLongError(
                f"{channel.describe()}: the text is {len(text)} characters, {parts} SMS; "
                f"the channel sends at most {channel.parts} (parts: in rules.yaml)")
        return
    limit = channel.limit()
    body = message(channel, title, text)
    if channel.kind in ("feishu", "webhook"):  # the whole request body counts
        size = len(json.dumps(body, ensure_ascii=False).encode())
    else:  # the message's text counts
        inner = body[body["msgtype"]]
        size = len((inner.get("content") or inner.get("text") or "").encode())
    if limit is not None and size > limit:
        raise MessageTooLongError(f"{channel.describe()}: the message is {size:,} bytes; "
                             f"{NAMES[channel.kind]} takes at most {limit:,}")


def message(channel: Channel, title: str, text: str, facts: dict | None = None) -> dict:
    """The JSON body a group channel is sent, as its platform documents it (before any
    signature)."""
    kind, fmt = channel.kind, channel.format
    headed = f"### {title}\n{text}"  # a Markdown message's first line is its title
    if kind == "dingtalk":
        if fmt == "text":
            return {"msgtype": "text", "text": {"content": f"{title}\n{text}"}}
        return {"msgtype": "markdown", "markdown": {"title": title, "text": headed}}
    if kind == "wecom":
        if fmt == "text":
            return {"msgtype": "text", "text": {"content": f"{title}\n{text}"}}
        return {"msgtype": "markdown", "markdown": {"content": headed}}
    if kind == "feishu":
        if fmt == "text":
            return {"msg_type": "text", "content": {"text": f"{title}\n{text}"}}
        return {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": title},
                       "template": "blue"},
            "elements": [{"tag": "markdown", "content": text}]}}
    return {"title": title, "text": text, **(facts or {})}


# ---- signatures, as each platform checks them --------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: base64 of HMAC-SHA256 keyed by the secret over "timestamp\\nsecret"."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """飞书 签名校验: base64 of HMAC-SHA256 keyed by "timestamp\\nsecret" over nothing."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_sign(secret: str, timestamp_s: int, body: bytes) -> str:
    """svcdesk's webhook signature: sha256=hex HMAC-SHA256 over "timestamp." + body."""
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def aliyun_sign(key_secret: str, method: str, canonical: str) -> str:
    """Aliyun's RPC signature (version 1.0) of a canonical query (sorted, each name and
    value percent-encoded): base64 HMAC-SHA1 keyed by "secret&" over
    METHOD&%2F&(the canonical query encoded once more)."""
    encoded = canonical.replace("%", "%25").replace("&", "%26").replace("=", "%3D")
    to_sign = f"{method}&%2F&{encoded}"
    return base64.b64encode(hmac.new(f"{key_secret}&".encode(), to_sign.encode(),
                                     hashlib.sha1).digest()).decode()


def aliyun_sms_params(key_id: str, phone: str, sign_name: str, template_code: str,
                      text: str, now: datetime, nonce: str | None = None) -> dict:
    """The parameters of an Aliyun SendSms request; the template gets the text as
    ${content}."""
    return {"AccessKeyId": key_id, "Action": "SendSms", "Format": "JSON",
            "PhoneNumbers": phone, "RegionId": "cn-hangzhou", "SignName": sign_name,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce or secrets.token_hex(16),
            "SignatureVersion": "1.0", "TemplateCode": template_code,
            "TemplateParam": json.dumps({"content": text}, ensure_ascii=False),
            "Timestamp": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25"}


# ---- what an answer means -------------------------------------------------------------------


def answer_error(channel: Channel, status: int, body: bytes) -> str | None:
    """Why the platform's answer says the message was not taken (None: it was)."""
    if not 200 <= status < 300:
        return f"answered HTTP {status}" + (f": {_snippet(body)}" if body.strip() else "")
    if channel.kind == "webhook":
        return None
    try:
        data = json.loads(body.decode("utf-8", "replace") or "null")
    except ValueError:
        data = None
    if channel.kind in ("dingtalk", "wecom"):
        return None if isinstance(data, dict) and data.get("errcode") == 0 else \
            f"answered {_snippet(body)}"
    if channel.kind == "feishu":
        code = data.get("code", data.get("StatusCode")) if isinstance(data, dict) else None
        return None if code == 0 else f"answered {_snippet(body)}"
    if channel.gateway == "aliyun":
        return None if isinstance(data, dict) and data.get("Code") == "OK" else \
            f"answered {_snippet(body)}"
    path = channel.ok.get("field")
    if not path:
        return None
    value = data
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if str(value) == str(channel.ok.get("equals", "")) or (
            "equals" not in channel.ok and value not in (None, "", False)):
        return None
    return f"answered {_snippet(body)} ({path} is {value!r})"


def _snippet(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text[:200] + ("…" if len(text) > 200 else "")
