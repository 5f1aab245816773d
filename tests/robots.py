"""Real HTTP servers on 127.0.0.1 that take notices as 钉钉, 企业微信 and 飞书 group robots,
Aliyun's SMS API and a JSON webhook do, each checking the request the way its platform
documents (written here from the platforms' documentation, not from svcdesk's code): the
robot's key, 钉钉's 加签 and 飞书's 签名校验 (within an hour), Aliyun's RPC signature, the
body's form and the platform's length limit. Some paths misbehave on purpose: an error, a
hang, a redirect to another host."""

import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit

DING_TOKEN, DING_SECRET = "ding-token-1", "SECding-secret-1"
WECOM_KEY = "693a91f6-wecom-key"
FEISHU_HOOK, FEISHU_SECRET = "feishu-hook-1", "feishu-secret-1"
ALIYUN_ID, ALIYUN_SECRET = "LTAI-test-id", "aliyun-secret-1"
WEBHOOK_SECRET = "hook-secret-1"
BLOCKED = "13900000000"


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that gave up on a hang and left is expected here; socketserver would
        print its traceback to sys.stderr, which is the running command's under CliRunner."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Robots:
    """The server and what it took: ``taken`` is [(platform, what the group or phone got)]."""

    def __init__(self):
        self.taken: list = []
        self.refused: list = []
        self.fail_next: dict = {}  # path prefix -> how many requests to refuse with HTTP 500
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                robots._handle(self, b"")

            def do_POST(self):
                size = int(self.headers.get("Content-Length") or 0)
                robots._handle(self, self.rfile.read(size))

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # the addresses a desk is given (in environment variables, as a real robot's are)
    def env(self) -> dict:
        return {"DING_URL": f"{self.base}/robot/send?access_token={DING_TOKEN}",
                "DING_SECRET": DING_SECRET,
                "WECOM_URL": f"{self.base}/cgi-bin/webhook/send?key={WECOM_KEY}",
                "FEISHU_URL": f"{self.base}/open-apis/bot/v2/hook/{FEISHU_HOOK}",
                "FEISHU_SECRET": FEISHU_SECRET,
                "ALIYUN_URL": f"{self.base}/aliyun/", "ALIYUN_ID": ALIYUN_ID,
                "ALIYUN_SECRET": ALIYUN_SECRET,
                "HOOK_URL": f"{self.base}/hook", "HOOK_SECRET": WEBHOOK_SECRET,
                "GATEWAY_URL": f"{self.base}/sms-gateway"}

    # ---- one request ------------------------------------------------------------------------

    def _handle(self, request, body: bytes):
        parts = urlsplit(request.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        for prefix, count in list(self.fail_next.items()):
            if parts.path.startswith(prefix) and count > 0:
                self.fail_next[prefix] = count - 1
                return self._answer(request, 500, {"error": "internal error, try later"})
        if parts.path == "/slow":
            time.sleep(3)
            return self._answer(request, 200, {})
        if parts.path == "/moved":
            request.send_response(302)
            request.send_header("Location", "http://collector.example.net/steal")
            request.send_header("Content-Length", "0")
            request.end_headers()
            return None
        if parts.path == "/robot/send":
            return self._answer(request, 200, self._dingtalk(query, body))
        if parts.path == "/cgi-bin/webhook/send":
            return self._answer(request, 200, self._wecom(query, body))
        if parts.path.startswith("/open-apis/bot/v2/hook/"):
            return self._answer(request, 200, self._feishu(parts.path.rsplit("/", 1)[1], body))
        if parts.path == "/aliyun/":
            status, answer = self._aliyun(request.command, parts.query)
            return self._answer(request, status, answer)
        if parts.path == "/sms-gateway":
            status, answer = self._gateway(request.headers, body)
            return self._answer(request, status, answer)
        if parts.path == "/hook":
            status, answer = self._webhook(request.headers, body)
            return self._answer(request, status, answer)
        return self._answer(request, 404, {"error": "no such robot"})

    def _answer(self, request, status: int, data):
        raw = json.dumps(data).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(raw)))
        request.end_headers()
        request.wfile.write(raw)

    def _refuse(self, platform, why, answer):
        self.refused.append((platform, why))
        return answer

    # ---- 钉钉: the token, then 加签: HmacSHA256(secret, timestamp + "\n" + secret) -------------

    def _dingtalk(self, query, body):
        if query.get("access_token") != DING_TOKEN:
            return self._refuse("dingtalk", "token", {"errcode": 300001,
                                                      "errmsg": "token is not exist"})
        stamp = query.get("timestamp", "")
        expected = base64.b64encode(hmac.new(
            DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256
        ).digest()).decode()
        fresh = stamp.isdigit() and abs(time.time() * 1000 - int(stamp)) < 3600 * 1000
        if not fresh or query.get("sign") != expected:  # parse_qsl has url-decoded it
            return self._refuse("dingtalk", "sign", {"errcode": 310000,
                                                     "errmsg": "sign not match"})
        data = json.loads(body)
        kind = data.get("msgtype")
        if kind == "markdown" and data["markdown"].get("title") and data["markdown"]["text"]:
            self.taken.append(("dingtalk", data["markdown"]["title"], data["markdown"]["text"]))
        elif kind == "text" and data["text"].get("content"):
            self.taken.append(("dingtalk", "", data["text"]["content"]))
        else:
            return self._refuse("dingtalk", "body", {"errcode": 40035, "errmsg": "bad body"})
        return {"errcode": 0, "errmsg": "ok"}

    # ---- 企业微信: the key; markdown content at most 4096 bytes ---------------------------

    def _wecom(self, query, body):
        if query.get("key") != WECOM_KEY:
            return self._refuse("wecom", "key", {"errcode": 93000,
                                                 "errmsg": "invalid webhook url"})
        data = json.loads(body)
        content = (data.get(data.get("msgtype"), {}) or {}).get("content", "")
        limit = 4096 if data.get("msgtype") == "markdown" else 2048
        if not content or len(content.encode()) > limit:
            return self._refuse("wecom", "content", {"errcode": 40058,
                                                     "errmsg": "content exceed max length"})
        self.taken.append(("wecom", "", content))
        return {"errcode": 0, "errmsg": "ok"}

    # ---- 飞书: HmacSHA256 keyed by timestamp + "\n" + secret over nothing ------------------

    def _feishu(self, hook, body):
        if hook != FEISHU_HOOK:
            return self._refuse("feishu", "hook", {"code": 19001, "msg": "param invalid"})
        if len(body) > 20 * 1024:
            return self._refuse("feishu", "size", {"code": 9499, "msg": "body too large"})
        data = json.loads(body)
        stamp = str(data.get("timestamp", ""))
        expected = base64.b64encode(hmac.new(f"{stamp}\n{FEISHU_SECRET}".encode(), b"",
                                             hashlib.sha256).digest()).decode()
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 3600
        if not fresh or data.get("sign") != expected:
            return self._refuse("feishu", "sign", {
                "code": 19021, "msg": "sign match fail or timestamp is not within one hour "
                                      "from current time"})
        if data.get("msg_type") == "interactive":
            card = data["card"]
            self.taken.append(("feishu", card["header"]["title"]["content"],
                               card["elements"][0]["content"]))
        elif data.get("msg_type") == "text":
            self.taken.append(("feishu", "", data["content"]["text"]))
        else:
            return self._refuse("feishu", "type", {"code": 19002, "msg": "bad msg_type"})
        return {"code": 0, "msg": "success", "data": {}}

    # ---- Aliyun SendSms: signature version 1.0 ----------------------------------------------

    def _aliyun(self, method, raw_query):
        pairs = [(unquote(k), unquote(v)) for k, _, v in
                 (item.partition("=") for item in raw_query.split("&") if item)]
        params = dict(pairs)
        given = params.pop("Signature", "")

        def enc(text):  # RFC 3986, as the signature documentation says
            return quote(text, safe="~")

        canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
        to_sign = f"{method}&{enc('/')}&{enc(canonical)}"
        expected = base64.b64encode(hmac.new(f"{ALIYUN_SECRET}&".encode(), to_sign.encode(),
                                             hashlib.sha1).digest()).decode()
        if params.get("AccessKeyId") != ALIYUN_ID:
            return 404, self._refuse("aliyun", "key", {"Code": "InvalidAccessKeyId.NotFound"})
        if given != expected:
            return 400, self._refuse("aliyun", "sign", {"Code": "SignatureDoesNotMatch"})
        for need in ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam",
                     "SignatureNonce", "Timestamp"):
            if not params.get(need):
                return 400, self._refuse("aliyun", need, {"Code": "MissingParameter"})
        content = json.loads(params["TemplateParam"])["content"]
        self.taken.append(("sms", params["PhoneNumbers"], content))
        return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0",
                     "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"}

    # ---- an SMS gateway of the kind many providers run: a bearer key, JSON in and out -------

    def _gateway(self, headers, body):
        if headers.get("Authorization") != f"Bearer {WEBHOOK_SECRET}":
            return 401, self._refuse("gateway", "key", {"result": {"code": "401"}})
        data = json.loads(body)
        if data.get("to") == BLOCKED:  # a number the carrier refuses
            return 200, self._refuse("gateway", "to", {"result": {"code": "21",
                                                                  "msg": "blocked number"}})
        self.taken.append(("sms", data["to"], data["text"]))
        return 200, {"result": {"code": "0", "msg": "queued"}}

    # ---- the generic webhook: HMAC-SHA256 over "timestamp." + body --------------------------

    def _webhook(self, headers, body):
        stamp = headers.get("X-Svcdesk-Timestamp", "")
        expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body,
                                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("X-Svcdesk-Signature", ""), expected):
            return 401, self._refuse("webhook", "sign", {"error": "bad signature"})
        self.taken.append(("webhook", "", json.loads(body)))
        return 200, {"ok": True}
