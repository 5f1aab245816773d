"""The hostile corpus: inputs built to break the desk at each of its doors, each with what it
attacks and the safe behaviour expected. Every input is made here, by code (no binary blob
without its generator): `python tests/hostile/corpus.py` lists them and writes CASES.md.

A case plants files in a desk (committed, as a hand edit or a pull would bring them, or
left in the work tree), then runs svcdesk steps, each allowed a set of exit codes. The
runner (test_corpus.py) checks the invariants every case must keep besides."""

import base64
import io
import json
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage

SECRET = "S3cr3t-hostile-Pa55"  # SMTP and webhook passwords the cases run with: never shown
OK, USAGE, RULES, NOT_FOUND, INVALID, TICKET_FILE, CONFLICT, TEMPLATE = 0, 2, 4, 5, 6, 7, 8, 12
TICKET = "tickets/2026/11/SD-20261122-0001.yaml"  # the ticket every case starts with
CUSTOMER = "zhang.wei@example.cn"


@dataclass
class Step:
    """One svcdesk command line, its standard input, and the exit codes it may end with."""

    args: tuple  # text, or bytes for an argument that is no valid UTF-8
    allowed: tuple
    stdin: bytes | None = None


@dataclass
class Case:
    name: str
    door: str  # yaml, rules, template, mail, import, cli
    attacks: str
    expected: str
    steps: list
    files: dict = field(default_factory=dict)  # relpath -> bytes
    commit: bool = True  # the planted files committed (as a hand commit or a pull would)
    remote: dict | None = None  # what another clone pushes: relpath -> bytes, None deletes
    rewrite: bool = False  # that clone rewrites the shared history (a force push)


# ---- YAML: ticket files edited by hand --------------------------------------------------------

_FIELDS = """id: SD-20261122-0009
uid: 01JDZ0000000000000000000B9
title: 打印机卡纸
type: fault
priority: P3
status: new
customer:
  name: 张伟
  phone: '13800000000'
"""
# a ticket as svcdesk writes it: the fields, then the history whose create event holds them
GOOD = _FIELDS + """events:
- id: 01JDZ0000000000000000000B9
  at: 2026-11-22T10:03:00+08:00
  by: wang.fang
  action: create
  fields:
""" + "".join(f"    {line}\n" for line in _FIELDS.splitlines())
PLANTED = "tickets/2026/11/SD-20261122-0009.yaml"


def _yaml_cases() -> list:
    bomb = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi")) + GOOD
    variants = {
        "alias-bomb": (bomb.encode(), "a billion laughs: aliases expanding to 10^9 values"),
        "deep-nesting": (("title: " + "[" * 50_000 + "]" * 50_000 + "\n").encode() + GOOD[
            GOOD.index("\ntype"):].encode(), "50,000 nested lists: a parser's recursion"),
        "huge-scalar": (GOOD.replace("title: 打印机卡纸", "title: " + "卡" * 2_000_000, 1).encode(),
                        "a 6 MB title"),
        "python-object-tag": (GOOD.replace("title: 打印机卡纸", "title: !!python/object/apply:"
                                           "os.system ['touch /tmp/svcdesk-pwned']", 1).encode(),
                              "a YAML tag that runs a shell command in an unsafe loader"),
        "python-name-tag": (GOOD.replace("priority: P3", "priority: !!python/name:os.system",
                                         1).encode(), "a tag naming a Python function"),
        "duplicate-keys": (GOOD.replace("priority: P3\n", "priority: P3\npriority: P1\n",
                                        1).encode(), "a key twice: which one is the truth?"),
        "gbk-bytes": (GOOD.encode("gbk"), "a file saved in GBK, not UTF-8"),
        "utf16-bom": (GOOD.encode("utf-16"), "a file saved as UTF-16 with its BOM"),
        "utf8-bom": (b"\xef\xbb\xbf" + GOOD.encode(), "a UTF-8 byte-order mark"),
        "nul-byte": (GOOD.replace("打印机卡纸", "打印机\x00卡纸", 1).encode(), "a NUL in a value"),
        "control-chars": (GOOD.replace("打印机卡纸", "打印机\x1b[31m卡纸\x07", 1).encode(),
                          "terminal escapes in a title: colour and bell"),
        "lying-snapshot": (GOOD.replace("status: new\ncustomer", "status: closed\ncustomer",
                                        1).encode(), "a snapshot that says closed while its "
                                                     "history never closed it"),
        "no-events": (GOOD[:GOOD.index("events:")].encode(), "a ticket with no history"),
        "events-not-a-list": (GOOD[:GOOD.index("events:")].encode() + b"events: 42\n",
                              "a history that is a number"),
        "unknown-action": (GOOD.replace("action: create", "action: self-destruct",
                                        1).encode(), "an event svcdesk never writes"),
        "bad-date": (GOOD.replace("2026-11-22T10:03:00+08:00", "yesterday", 1).encode(),
                     "an event at no time"),
        "not-a-mapping": (b"- just\n- a list\n", "a ticket that is a list"),
        "empty-file": (b"", "an empty ticket file"),
        "binary-garbage": (bytes(range(256)) * 64, "16 KiB of every byte"),
        "wrong-id": (GOOD.replace("id: SD-20261122-0009", "id: SD-20261122-0001", 1).encode(),
                     "a file that claims another ticket's number"),
        "tab-indent": (GOOD.replace("\n  name:", "\n\tname:", 1).encode(),
                       "a tab where YAML wants spaces"),
        "huge-line-count": (GOOD.encode() + b"#\n" * 300_000, "300,000 comment lines"),
        "anchor-in-history": (GOOD.replace("- id: 01JDZ", "- &e id: 01JDZ", 1).encode() +
                              b"- *e\n", "a history event repeated by an alias"),
        "field-of-wrong-type": (GOOD.replace("priority: P3\nstatus", "priority: [P1, P2]\nstatus",
                                             1).encode(), "a list where a priority goes"),
        "escaped-surrogate": (GOOD.replace("title: 打印机卡纸\ntype", 'title: "\\ud800卡纸"\ntype',
                                           1).encode(), "a lone surrogate by a YAML escape"),
        "rtl-override": (GOOD.replace("打印机卡纸", "\u202egpj.exe卡纸", 1).encode(),
                         "a right-to-left override that reverses how a title reads"),
    }
    out = []
    for name, (data, attacks) in variants.items():
        for command, allowed in ((("show", "1122-9"), (OK, NOT_FOUND, TICKET_FILE)),
                                 (("list", "--status", "all"), (OK, TICKET_FILE)),
                                 (("comment", "1122-9", "-m", "看一下"),
                                  (OK, NOT_FOUND, TICKET_FILE, CONFLICT, INVALID))):
            out.append(Case(f"yaml-{name}-{command[0]}", "yaml", attacks,
                            "refused naming the file (and line), or read safely; no other "
                            "ticket touched, nothing run", [Step(command, allowed)],
                            {PLANTED: data}))
    return out


# ---- rules.yaml --------------------------------------------------------------------------------

def _rules_cases(rules_text: str) -> list:
    def with_(old, new):
        assert old in rules_text, old
        return rules_text.replace(old, new, 1).encode()

    many = "".join(f"  - name: 规则{i}\n    when: {{keywords: [词{i}]}}\n    set: {{category: c{i}}}\n"
                   for i in range(5000))
    variants = {
        "backtracking-regex": (with_("classify:\n", "classify:\n  - name: 回溯\n    when: "
                                     "{regex: '(a+)+$'}\n    set: {category: x}\n"),
                               "a pattern that backtracks for hours in a naive engine", (OK,)),
        "backreference": (with_("classify:\n", "classify:\n  - name: 回溯\n    when: "
                                "{regex: '(a*)*\\1b'}\n    set: {category: x}\n"),
                          "a backreference, which no linear engine matches", (RULES,)),
        "thousands-of-rules": (with_("classify:\n", "classify:\n" + many),
                               "5,000 classification rules", (OK,)),
        "continue-cycle": (with_("classify:\n", "classify:\n  - name: 甲\n    continue: 乙\n"
                                 "  - name: 乙\n    continue: 甲\n"),
                           "rules that send each other back and forth", (RULES,)),
        "alias-bomb": (b"a: &a [x,x,x,x,x,x,x,x,x,x]\n" + b"".join(
            f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n".encode()
            for p, c in zip("abcdefgh", "bcdefghi")) + rules_text.encode(),
                       "a billion laughs in the rules", (RULES,)),
        "python-tag": (with_("desk:\n", "desk: !!python/object/apply:os.system ['id']\n"
                             "unused:\n"), "a tag that runs a command", (RULES,)),
        "duplicate-key": (with_("  prefix: SD", "  prefix: SD\n  prefix: XX"),
                          "a key written twice", (RULES,)),
        "gbk": (rules_text.encode("gbk", "replace"), "rules saved in GBK", (RULES,)),
        "workflow-never-closes": (with_("    close:    {from: [resolved], to: closed}",
                                        "    close:    {from: [resolved], to: resolved}"),
                                  "a workflow in which nothing ever closes", (RULES,)),
        "workflow-unknown-role": (with_("    close:    {from: [resolved], to: closed}",
                                        "    close:    {from: [resolved], to: closed, "
                                        "by: [god]}"), "an action for a role no one can have",
                                  (RULES,)),
        "channel-with-key": (with_("notices:\n", "notices:\n  channels:\n    g: {kind: wecom, "
                                   "url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="
                                   f"{SECRET}'}}\n"), "a robot's key written in the rules",
                             (RULES,)),
        "smtp-password": (with_("notices:\n", f"notices:\n  smtp: smtp://u:{SECRET}@127.0.0.1:1\n"),
                          "an SMTP password written in the rules", (RULES,)),
        "empty": (b"", "an empty rules.yaml", (RULES,)),
        "huge-keyword": (with_("classify:\n", "classify:\n  - name: 大\n    when: {keywords: ['" +
                               "字" * 200_000 + "']}\n    set: {category: x}\n"),
                         "a 600 KB keyword", (OK, RULES)),
    }
    out = []
    for name, (data, attacks, allowed) in variants.items():
        for command in (("rules", "check"), ("new", "--title", "打印机卡纸", "--type", "fault",
                                              "--customer", "张伟", "--phone", "13800000000",
                                              "--product", "LP-404", "--purchased",
                                              "2026-01-01", "--description", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa!")):
            ok = allowed + ((INVALID,) if command[0] == "new" else ())
            out.append(Case(f"rules-{name}-{command[0]}", "rules", attacks,
                            "refused naming rules.yaml, its line and key, in bounded time; "
                            "nothing written", [Step(command, ok)], {"rules.yaml": data}))
    return out


# ---- templates --------------------------------------------------------------------------------

ESCAPES = {
    # sandbox escapes from Jinja's published advisories and the classic SSTI payloads
    "mro-subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "globals-os": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "self-context": "{{ self._TemplateReference__context }}",
    "format-cve-2016-10745": "{{ '{0.__class__.__mro__}'.format(number) }}",
    "format-map-cve-2019-10906": "{{ '{x.__class__}'.format_map({'x': number}) }}",
    "attr-filter": "{{ number|attr('__class__')|attr('__mro__') }}",
    "request-config": "{{ config.items() }}",
    "namespace-setattr": "{% set ns = namespace() %}{% set ns.__class__ = 1 %}",
    "import-os": "{% import 'os' as os %}",
    "include-passwd": "{% include '/etc/passwd' %}",
    "include-git-config": "{% include '../../.git/config' %}",
    "include-rules": "{% include '../rules.yaml' %}",
    "billion-chars": "{{ 'a' * 10**9 }}",
    "power": "{{ 10 ** 10 ** 10 }}",
    "deep-recursion": "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
    "exponential-macro": "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}"
                         "{% endmacro %}{{ m(60) }}",
    "huge-loop": "{% for i in range(10**9) %}x{% endfor %}",
    "nested-loops": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}"
                    "{% endfor %}",
    "env-secret": "{{ environ }}{{ SVCDESK_SMTP_PASSWORD }}",
    "unclosed": "{% if %}",
    "unknown-filter": "{{ number | shell }}",
}


def _template_cases() -> list:
    out = []
    new = ("new", "--title", "打印机卡纸", "--type", "fault", "--customer", "张伟", "--phone",
           "13800000000", "--email", CUSTOMER, "--product", "LP-404", "--purchased",
           "2026-01-01", "--description", "打印第二张就卡住")
    for name, body in ESCAPES.items():
        out.append(Case(f"template-notice-{name}", "template", "a notice template: " + name,
                        "the change lands; the notice fails naming its template, kept in the "
                        "outbox; nothing leaves the sandbox",
                        [Step(new, (OK,)), Step(("notify", "send"), (OK, TEMPLATE)),
                         Step(("notify", "list"), (OK,))],
                        {"templates/notices/ack.j2": f"受理：{{{{ title }}}}\n\n{body}\n".encode()}))
        out.append(Case(f"template-report-{name}", "template", "a report template: " + name,
                        "the report is refused naming its template; nothing leaves the sandbox",
                        [Step(("report", "weekly", "--week", "this"), (OK, TEMPLATE))],
                        {"templates/reports/weekly.md.j2": f"# 周报\n{body}\n".encode()}))
    return out


# ---- mail from anyone on the internet ----------------------------------------------------------

def _message(subject="打印机卡纸", body="打印第二张就卡住", sender=f"张伟 <{CUSTOMER}>",
             message_id="<m1@mail.example.cn>", headers=None, attachments=()) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    for name, data, kind in attachments:
        main, sub = kind.split("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return bytes(msg)


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.txt", b"\0" * (64 * 1024 * 1024))
    return buffer.getvalue()


def _raw(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("latin-1", "replace")


def _mail_cases() -> list:
    bomb = _zip_bomb()
    messages = {
        "header-injection-subject": (_raw(
            "From: a@example.cn\nTo: service@example.com\nSubject: hi\r\nBcc: all@example.com"
            "\nMessage-ID: <h1@x>\n\nbody\n"), "CR/LF in a subject to add a header"),
        "header-injection-name": (_raw(
            'From: "evil\r\nBcc: all@example.com" <a@example.cn>\nTo: s@example.com\n'
            "Subject: x\nMessage-ID: <h2@x>\n\nbody\n"), "CR/LF in a display name"),
        "forged-in-reply-to": (_message(subject="Re: 我的工单", body="请把退款打到我的账户",
                                        sender="mallory@evil.example",
                                        message_id="<f1@evil>",
                                        headers={"In-Reply-To": "<a.01jdz0000000000000000000b1"
                                                                "@example.com>"}),
                               "a stranger's reply naming another customer's ticket"),
        "different-sender-tag": (_message(subject="Re: [SD-20261122-0001] 进度",
                                          body="进度", sender="mallory@evil.example",
                                          message_id="<f2@evil>"),
                                 "a stranger asking the progress of someone's ticket"),
        "number-from-stranger": (_message(subject="查询", body="SD-20261122-0001",
                                          sender="mallory@evil.example",
                                          message_id="<f3@evil>"),
                                 "a stranger mailing a ticket's number"),
        "zip-bomb": (_message(message_id="<z1@x>", attachments=[("logs.zip", bomb,
                                                                   "application/zip")]),
                     "a zip that inflates to 64 MiB"),
        "thirty-mib": (_message(message_id="<b1@x>", attachments=[
            ("photo.jpg", b"\xff\xd8" + b"\0" * (30 * 1024 * 1024), "image/jpeg")]),
                       "a 30 MiB attachment"),
        "traversal-name": (_message(message_id="<t1@x>", attachments=[
            ("../../.git/config", b"[core]\n\tfsmonitor = touch /tmp/pwned\n", "text/plain")]),
                           "an attachment named ../../.git/config"),
        "absolute-name": (_message(message_id="<t2@x>", attachments=[
            ("/etc/cron.d/x", b"* * * * * root id\n", "text/plain")]),
                          "an attachment named /etc/cron.d/x"),
        "device-name": (_message(message_id="<t3@x>", attachments=[
            ("CON", b"x", "text/plain"), ("nul.txt", b"x", "text/plain")]),
                        "Windows device names"),
        "nul-in-name": (_message(message_id="<t4@x>", attachments=[
            ("a\0b.txt", b"x", "text/plain")]), "a NUL in a file name"),
        "rtl-name": (_message(message_id="<t5@x>", attachments=[
            ("invoice\u202efdp.exe", b"MZ", "application/octet-stream")]),
                     "a right-to-left override hiding .exe"),
        "malformed-mime": (_raw("From: a@example.cn\nTo: s@example.com\nSubject: x\n"
                                "Message-ID: <mm@x>\nMIME-Version: 1.0\nContent-Type: "
                                "multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: "
                                "text/plain\n\nhello\n--b\nContent-Type: multipart/mixed; "
                                "boundary=\"c\"\n\n--c\n"), "a multipart never closed"),
        "charset-lie": (_raw("From: a@example.cn\nTo: s@example.com\nSubject: x\n"
                             "Message-ID: <cl@x>\nContent-Type: text/plain; charset=utf-8\n"
                             "Content-Transfer-Encoding: base64\n\n") +
                        base64.encodebytes("打印机卡纸了".encode("gbk")),
                        "GBK bytes labelled UTF-8"),
        "unknown-charset": (_raw("From: a@example.cn\nTo: s@example.com\nSubject: x\n"
                                 "Message-ID: <uc@x>\nContent-Type: text/plain; "
                                 "charset=x-no-such\n\nhello\n"), "a charset that does not exist"),
        "auto-reply-loop": (_message(subject="自动回复：您的服务请求已受理", message_id="<ar@x>",
                                     headers={"Auto-Submitted": "auto-replied"}),
                            "an auto-reply to the desk's own notice (a mail loop)"),
        "mailer-daemon": (_message(subject="Undelivered Mail Returned to Sender",
                                   sender="MAILER-DAEMON@example.cn", message_id="<md@x>"),
                          "a bounce"),
        "no-from": (_raw("To: s@example.com\nSubject: x\nMessage-ID: <nf@x>\n\nhello\n"),
                    "a message from nobody"),
        "huge-subject": (_message(subject="卡" * 100_000, message_id="<hs@x>"),
                         "a 300 KB subject"),
        "many-parts": (_message(message_id="<mp@x>", attachments=[
            (f"f{i}.txt", b"x", "text/plain") for i in range(500)]), "500 attachments"),
        "not-mail": (bytes(range(256)) * 16, "bytes that are no message"),
        "empty": (b"", "an empty message"),
        "secret-in-body": (_message(body=f"my password is {SECRET}", message_id="<sb@x>"),
                           "a password a customer wrote, that must not reach a log"),
    }
    out = []
    for name, (raw, attacks) in messages.items():
        if raw.startswith(b"From:") or b"\nFrom:" in raw[:2000] or raw.startswith(b"To:"):
            reply = raw.replace(b"Subject: ", b"Subject: Re: [SD-20261122-0001] ", 1) \
                .replace(b"Message-ID: <", b"Message-ID: <re-", 1)
            out.append(Case(f"mail-reply-{name}", "mail", attacks + ", as a reply to a "
                            "ticket", "recorded on the ticket it names only when its "
                            "customer sent it, else taken as new mail; never a crash",
                            [Step(("mail", "ingest"), (OK, INVALID), stdin=reply)]))
        out.append(Case(f"mail-{name}", "mail", attacks,
                        "taken as a ticket or a reply, or kept aside whole; never a crash, a "
                        "file outside the desk, or someone else's ticket",
                        [Step(("mail", "ingest"), (OK, INVALID), stdin=raw),
                         Step(("mail", "ingest"), (OK, INVALID), stdin=raw)]))
    return out


# ---- platform exports ----------------------------------------------------------------------------

JD_HEAD = "服务单号,订单号,商品编号,商品名称,服务类型,申请原因,问题描述,申请时间,服务单状态,客户姓名,联系电话,收货地址,下单时间"


def _jd(rows: list) -> bytes:
    return ("\ufeff" + JD_HEAD + "\n" + "".join(r + "\n" for r in rows)).encode("utf-8")


def _row(**cells) -> str:
    base = {"服务单号": "1688001", "订单号": "290011223344", "商品编号": "LP-404",
            "商品名称": "打印机", "服务类型": "维修", "申请原因": "质量问题",
            "问题描述": "卡纸", "申请时间": "2026-12-02 10:21:00", "服务单状态": "待审核",
            "客户姓名": "刘建国", "联系电话": "13706751234", "收货地址": "浙江绍兴",
            "下单时间": "2026-06-18 21:05:33"}
    base.update(cells)
    return ",".join('"' + str(base[c]).replace('"', '""') + '"' for c in JD_HEAD.split(","))


def _xlsx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://'
                      'schemas.openxmlformats.org/package/2006/content-types"/>')
        book.writestr("xl/worksheets/sheet1.xml", b"<x>" + b" " * (200 * 1024 * 1024) +
                      b"</x>")
    return buffer.getvalue()


def _import_cases() -> list:
    formula = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\")",
               "\t=1", "\r=1"]
    files = {}
    for column in JD_HEAD.split(","):
        for i, payload in enumerate(formula[:3]):
            files[f"formula-{column}-{i}"] = (_jd([_row(**{column: payload})]), "a formula in "
                                              f"{column}", "export.csv")
    files.update({
        "ten-thousand-columns": (("\ufeff" + JD_HEAD + "," + ",".join(f"x{i}" for i in
                                                                      range(10_000)) + "\n" +
                                  _row() + "," + ",".join("v" for _ in range(10_000)) +
                                  "\n").encode(), "10,000 columns", "export.csv"),
        "megabyte-cell": (_jd([_row(问题描述="卡" * 400_000)]), "a 1.2 MB cell", "export.csv"),
        "nul-bytes": (_jd([_row(问题描述="卡\0纸")]), "NUL bytes in a cell", "export.csv"),
        "gbk-labelled-nothing": (("\n".join([JD_HEAD, _row()]) + "\n").encode("gbk"),
                                 "GBK with no mark", "export.csv"),
        "utf16": (("\n".join([JD_HEAD, _row()]) + "\n").encode("utf-16"), "UTF-16",
                  "export.csv"),
        "xlsx-zip-bomb": (_xlsx_bomb(), "an .xlsx that inflates to 200 MiB", "export.xlsx"),
        "xlsx-not-zip": (b"PK\x03\x04 not really", "an .xlsx that is no zip", "export.xlsx"),
        "empty": (b"", "an empty export", "export.csv"),
        "header-only": (_jd([]), "an export with no rows", "export.csv"),
        "many-rows": (_jd([_row(服务单号=str(2000000 + i)) for i in range(3000)]),
                      "3,000 rows at once", "export.csv"),
        "quote-hell": (_jd(['"1688099","' + '"' * 5000]), "a quote never closed",
                       "export.csv"),
    })
    out = []
    for name, (data, attacks, filename) in files.items():
        out.append(Case(f"import-{name}", "import", attacks,
                        "taken with formulas kept as text, or refused naming the file and row; "
                        "bounded in time and memory",
                        [Step(("import", f"../inputs/{filename}", "--layout", "jd"),
                              (OK, INVALID, USAGE)),
                         Step(("list", "--format", "csv", "--status", "all"), (OK,))],
                        {f"../inputs/{filename}": data}, commit=False))
    return out


# ---- the command line and free text ------------------------------------------------------------

def _cli_cases() -> list:
    base = ("new", "--type", "fault", "--customer", "张伟", "--phone", "13800000000",
            "--product", "LP-404", "--purchased", "2026-01-01", "--description", "卡纸卡纸")
    titles = {
        "option-desk": "--desk=/", "option-as": "--as=he.wei", "dash-dash": "--",
        "option-help": "--help", "bidi": "\u202e卡纸\u202c", "zero-width": "卡\u200b纸",
        "argv-most": "卡" * 40_000, "only-spaces": "   ", "newline": "卡纸\nSubject: x",
        "yaml-doc": "---\n...", "emoji": "🖨️💥" * 10, "html": "<script>alert(1)</script>",
        "sql": "'; DROP TABLE tickets; --", "shell": "$(touch /tmp/pwned)`id`",
        "format-string": "{0.__class__}%s%n", "path": "../../../etc/passwd",
        "ansi": "\x1b]0;pwned\x07\x1b[2J", "template": "{{ 7 * 7 }}{% raw %}",
    }
    out = []
    for name, title in titles.items():
        out.append(Case(f"cli-title-{name}", "cli", f"a title: {name}",
                        "taken as text, or refused with one line; never an option",
                        [Step(base + ("--title", title), (OK, INVALID, USAGE)),
                         Step(("list", "--status", "all"), (OK,)),
                         Step(("search", title[:40] or "x"), (OK, USAGE))]))
    for name, args in {
        "id-traversal": ("show", "../../../etc/passwd"),
        "id-huge": ("show", "1" * 100_000),
        "id-negative": ("show", "20261122--1"),
        "id-nul-like": ("show", "SD-20261122-0001\\x00"),
        "comment-huge": ("comment", "1122-1", "-m", "卡" * 40_000),
        "set-unknown": ("edit", "1122-1"),
        "set-managed": ("new", "--title", "x", "--set", "status=closed"),
        "set-injection": ("new", "--title", "x", "--set", "customer.phone=1380000\n0000"),
        "search-regex": ("search", ".*(a+)+$"),
        "list-sort": ("list", "--sort", "id; DROP TABLE tickets"),
        "report-week": ("report", "weekly", "--week", "9999-W99"),
        "visit-past": ("visit", "1122-1", "--at", "1900-01-01 00:00"),
        "notify-event": ("notify", "preview", "1122-1", "../../etc/passwd"),
        "attach-device": ("attach", "1122-1", "/dev/zero"),
        "kb-name": ("kb", "show", "../../rules"),
        "template-name": ("new", "-t", "../../rules"),
        "reply-name": ("comment", "1122-1", "--reply", "../../../etc/passwd"),
    }.items():
        out.append(Case(f"cli-{name}", "cli", " ".join(args)[:60], "refused with one line "
                        "naming what is wrong, or done safely",
                        [Step(args, (OK, USAGE, NOT_FOUND, INVALID, TICKET_FILE, CONFLICT,
                                     11, 12))]))
    forms = {
        "one-mb-title": json.dumps({"title": "卡" * 350_000}),
        "one-mb-description": json.dumps({"title": "卡纸", "description": "卡" * 350_000}),
        "lone-surrogate": '{"title": "\\ud800卡纸"}',
        "nul": '{"title": "卡\\u0000纸"}',
        "alias-bomb": "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c]\n"
                      "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\ntitle: x\n",
        "python-tag": "title: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
        "deep-nesting": "title: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "not-a-mapping": "[1, 2, 3]",
        "managed-fields": json.dumps({"title": "卡纸", "status": "closed", "csat": 5,
                                      "id": "SD-20991231-9999", "events": []}),
        "unknown-fields": json.dumps({"title": "卡纸", "customer": {"ssn": "x"},
                                      "__class__": "x"}),
        "bidi-name": json.dumps({"title": "卡纸", "customer": {"name": "\u202e伟张"}}),
        "gbk-bytes": "title: 打印机卡纸\n",
    }
    for name, text in forms.items():
        data = text.encode("gbk") if name == "gbk-bytes" else text.encode("utf-8",
                                                                           "surrogatepass")
        out.append(Case(f"cli-form-{name}", "cli", f"a form on stdin: {name}",
                        "refused naming what is wrong, or taken; bounded; nothing run",
                        [Step(("new", "--from", "-", "--type", "inquiry", "--customer", "张伟"),
                              (OK, INVALID, USAGE), stdin=data),
                         Step(("list", "--status", "all"), (OK,))]))
    for name, raw in {"not-utf8": b"\xff\xfe\xfd", "latin1": "caf\xe9".encode("latin-1"),
                      "gbk-argv": "卡纸".encode("gbk"), "half-utf8": "卡".encode()[:2]}.items():
        out.append(Case(f"cli-argv-{name}", "cli", "an argument that is no valid UTF-8",
                        "refused with one line naming the argument; nothing changed",
                        [Step(("comment", "1122-1", "-m", raw), (USAGE,))]))
    return out


# ---- sync: what another clone pushes ---------------------------------------------------------

def _sync_cases() -> list:
    pushes = {
        "rewrites-a-ticket": ({TICKET: GOOD.replace("SD-20261122-0009", "SD-20261122-0001")
                               .encode()}, True, "history rewritten: the ticket replaced by "
                                                 "another, force-pushed"),
        "deletes-the-rules": ({"rules.yaml": None}, False, "rules.yaml deleted"),
        "breaks-the-rules": ({"rules.yaml": b"desk: [\n"}, False, "rules.yaml broken"),
        "file-outside-tickets": ({"hooks/post-merge": b"#!/bin/sh\ntouch /tmp/pwned\n",
                                  ".git-hooks/x": b"x"}, False,
                                 "files outside tickets/, hook-like"),
        "gitattributes-filter": ({".gitattributes": b"* filter=pwn\n"}, False,
                                 "a .gitattributes naming a filter no one defined"),
        "broken-ticket": ({TICKET: b"events: [\n"}, False, "a ticket file broken"),
        "deleted-ticket": ({TICKET: None}, False, "a ticket deleted"),
        "huge-ticket": ({PLANTED: GOOD.replace("title: 打印机卡纸", "title: " + "卡" * 500_000,
                                               1).encode()}, False, "a ticket of 1.5 MB"),
        "rewrites-history": ({"notes.txt": b"rewritten\n"}, True, "an unrelated history "
                                                                  "force-pushed"),
        "unrelated-into-ticket": ({TICKET: b"- a list\n- not a ticket\n"}, False,
                                  "the merge driver fed a file that is no ticket"),
    }
    out = []
    for name, (files, rewrite, attacks) in pushes.items():
        out.append(Case(f"sync-{name}", "sync", attacks,
                        "the sync refuses or merges; the desk's own work is never lost, "
                        "nothing outside the desk is run",
                        [Step(("comment", "1122-1", "-m", "本地的工作"), (OK,)),
                         Step(("sync",), (OK, RULES, TICKET_FILE, CONFLICT, 10, 16)),
                         Step(("log", "1122-1"), (OK, NOT_FOUND, TICKET_FILE, RULES))],
                        remote=files, rewrite=rewrite))
    return out


def cases(rules_text: str) -> list:
    """Every case, in a fixed order."""
    return (_yaml_cases() + _rules_cases(rules_text) + _template_cases() + _mail_cases()
            + _import_cases() + _cli_cases() + _sync_cases())


def main() -> None:
    from pathlib import Path

    here = Path(__file__).parent
    rules_text = (here.parents[1] / "rules.yaml").read_text(encoding="utf-8")
    found = cases(rules_text)
    lines = ["# The hostile corpus", "", f"{len(found)} cases, made by `python "
             "tests/hostile/corpus.py` (which writes this file); run by "
             "tests/hostile/test_corpus.py.", "",
             "| case | door | attacks | expected |", "|---|---|---|---|"]
    for case in found:
        lines.append(f"| {case.name} | {case.door} | {case.attacks} | {case.expected} |")
    (here / "CASES.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps({d: sum(c.door == d for c in found) for d in dict.fromkeys(
        c.door for c in found)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
