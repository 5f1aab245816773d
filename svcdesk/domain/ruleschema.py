"""The schema of rules.yaml, in a small language of nodes: one declaration drives the
validation of the file, its error messages (naming the key) and docs/rules.md (whose keys
the tests check against it). Imported only to check a rules.yaml that svcdesk has not
compiled before (see store.read_rules): the compiled rules of an unchanged file are read
from a cache, and most commands never build these ~400 nodes."""

import re
from dataclasses import dataclass, field
from datetime import date

from svcdesk.base.errors import RulesError
from svcdesk.base.fields import TYPES
from svcdesk.base.identity import PREFIX_RE
from svcdesk.domain.workflow import ROLES

# ---- the schema language ---------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A place in rules.yaml: what it holds and what it is for."""

    doc: str = field(default="", kw_only=True)

    def check(self, value, path):
        """Return ``value`` checked; raise RulesError naming ``path`` when it does not fit."""
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Node):
    """A string, optionally matching ``pattern`` or one of ``choices``."""

    pattern: str | None = None
    choices: tuple = ()

    def check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, (str, int, float, date)):
            raise RulesError(f"expected text, got {_kind(value)}", path)
        value = str(value)
        if self.choices and value not in self.choices:
            raise RulesError(f"{value!r} is not allowed; use one of: "
                             + ", ".join(self.choices), path)
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise RulesError(f"{value!r} does not match {self.pattern}", path)
        return value


@dataclass(frozen=True)
class Whole(Node):
    """A whole number within bounds."""

    minimum: int | None = None
    maximum: int | None = None

    def check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RulesError(f"expected a whole number, got {_kind(value)}", path)
        if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum):
            raise RulesError(f"{value} is out of range {self.minimum}..{self.maximum}", path)
        return value


@dataclass(frozen=True)
class Flag(Node):
    """true or false."""

    def check(self, value, path):
        if not isinstance(value, bool):
            raise RulesError(f"expected true or false, got {_kind(value)}", path)
        return value


@dataclass(frozen=True)
class Seq(Node):
    """A list whose items all fit ``item``."""

    item: Node = field(default_factory=Text)

    def check(self, value, path):
        if not isinstance(value, list):
            raise RulesError(f"expected a list, got {_kind(value)}", path)
        return [self.item.check(v, path + (i,)) for i, v in enumerate(value)]


@dataclass(frozen=True)
class Record(Node):
    """A mapping with fixed keys, some required."""

    keys: dict = field(default_factory=dict)
    required: tuple = ()

    def check(self, value, path):
        if not isinstance(value, dict):
            raise RulesError(f"expected a mapping with keys {', '.join(self.keys)}, "
                             f"got {_kind(value)}", path)
        for key in value:
            if key not in self.keys:
                raise RulesError(f"unknown key {key!r}; allowed here: "
                                 + ", ".join(self.keys), path + (key,))
        for key in self.required:
            if key not in value:
                raise RulesError(f"missing required key {key!r}", path)
        return {k: self.keys[k].check(v, path + (k,)) for k, v in value.items()}


@dataclass(frozen=True)
class Table(Node):
    """A mapping from names the desk chooses (matching ``key``) to entries of one shape."""

    value: Node = field(default_factory=Text)
    key: str = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
    nonempty: bool = True

    def check(self, value, path):
        if not isinstance(value, dict):
            raise RulesError(f"expected a mapping of names to entries, got {_kind(value)}", path)
        if self.nonempty and not value:
            raise RulesError("must name at least one entry", path)
        out = {}
        for name, entry in value.items():
            if not isinstance(name, str) or not re.fullmatch(self.key, name):
                raise RulesError(f"{name!r} is not a valid name (letters, digits, _ . -)",
                                 path + (name,))
            out[name] = self.value.check(entry, path + (name,))
        return out


@dataclass(frozen=True)
class Label(Node):
    """A display name: text, or a mapping with label (Chinese) and label_en."""

    def check(self, value, path):
        if isinstance(value, dict):
            return _LABEL_RECORD.check(value, path)
        return {"label": Text().check(value, path)}


@dataclass(frozen=True)
class Either(Node):
    """One of several shapes, tried in order (e.g. true/false or a rule name)."""

    options: tuple = ()
    what: str = ""

    def check(self, value, path):
        for option in self.options:
            try:
                return option.check(value, path)
            except RulesError:
                continue
        raise RulesError(f"expected {self.what}, got {_kind(value)}", path)


@dataclass(frozen=True)
class Values(Node):
    """A plain value or a list of them; the field they belong to types them later."""

    def check(self, value, path):
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, (dict, list)):
                raise RulesError(f"expected a value or a list of values, got {_kind(item)}",
                                 path + ((i,) if isinstance(value, list) else ()))
        return value


def _kind(value) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false",
            type(None): "nothing"}.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class Money(Node):
    """An amount in yuan with at most two decimals, kept as text (never a float)."""

    def check(self, value, path):
        from svcdesk.base.fields import money

        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise RulesError(f"expected an amount in yuan, got {_kind(value)}", path)
        text = repr(value) if isinstance(value, float) else str(value)
        try:
            return money(text)
        except ValueError as exc:
            raise RulesError(str(exc), path) from None


_ENV = r"[A-Z_][A-Z0-9_]*"
_LABEL_RECORD = Record({"label": Text(doc="显示名 (Chinese)"),
                        "label_en": Text(doc="English display name")}, required=("label",))
_NAME = r"[a-z][a-z0-9_]*"

# ---- the schema of rules.yaml ---------------------------------------------------------------

SCHEMA = Record(doc="The desk's configuration.", required=("desk", "types", "priorities",
                                                            "statuses"), keys={
    "desk": Record(doc="Who the desk is.", required=("name", "prefix", "timezone"), keys={
        "name": Text(doc="The desk's name, shown in notices and reports."),
        "prefix": Text(pattern=PREFIX_RE.pattern[1:-1],
                       doc="Ticket number prefix: capital letters and digits, e.g. SD."),
        "timezone": Text(doc="IANA time zone for numbers, dates and business hours."),
        "language": Text(choices=("zh", "en"), doc="Language of what svcdesk shows."),
        "default_priority": Text(doc="Priority when neither the type nor the request sets one."),
        "warranty_months": Whole(minimum=0, maximum=240,
                                 doc="Warranty length, to mark product.warranty in/out."),
        "manager": Text(doc="The agent who takes escalations past a team lead (服务主管)."),
        "sync": Text(choices=("manual", "auto"),
                     doc="auto: every change pulls before and pushes after (a shared desk)."),
    }),
    "fields": Table(nonempty=False, key=rf"{_NAME}(\.{_NAME})?",
                    doc="The desk's own ticket fields, added to the core fields.",
                    value=Record(required=("type", "label"), keys={
                        "type": Text(choices=TYPES, doc="The value type."),
                        "label": Text(doc="显示名"),
                        "label_en": Text(doc="English name"),
                        "choices": Table(value=Label(), doc="For enum: the allowed values."),
                        "min": Whole(doc="For integer: the smallest value."),
                        "max": Whole(doc="For integer: the largest value."),
                        "help": Text(doc="A hint shown in forms."),
                    })),
    "types": Table(doc="Ticket types and what each needs.", value=Record(
        required=("label",), keys={
            "label": Text(doc="显示名"),
            "label_en": Text(doc="English name"),
            "required": Seq(Text(), doc="Fields a ticket of this type must have."),
            "priority": Text(doc="Default priority of this type."),
            "team": Text(doc="The team that handles this type unless a rule says otherwise."),
        })),
    "priorities": Table(doc="Priorities, most urgent first.", value=Label()),
    "statuses": Table(doc="Ticket statuses; the first is where new tickets start.",
                      value=Record(required=("label",), keys={
                          "label": Text(doc="显示名 customers see"),
                          "label_en": Text(doc="English name"),
                          "open": Flag(doc="Whether the ticket still needs work (listed by "
                                           "default, counted in backlog and load)."),
                          "clock": Text(choices=("runs", "paused", "done"),
                                        doc="The SLA clock in this status: runs, paused "
                                            "(待备件: time here does not count) or done (the "
                                            "resolution is reached, as after resolve)."),
                      })),
    "channels": Table(doc="Where requests arrive from.", value=Label()),
    "tiers": Table(doc="Customer tiers.", value=Label()),
    "outcomes": Table(doc="What the customer expects (repair, refund...).", value=Label()),
    "impacts": Table(doc="How far a problem reaches.", value=Label()),
    "urgencies": Table(doc="How soon it hurts.", value=Label()),
    "teams": Table(doc="Teams that handle tickets.", value=Record(required=("label",), keys={
        "label": Text(doc="显示名"),
        "label_en": Text(doc="English name"),
        "lead": Text(doc="The agent who leads it (first escalation level)."),
        "email": Text(doc="The team's shared mailbox."),
    })),
    "agents": Table(doc="People who work tickets.", value=Record(
        required=("name", "email", "team"), keys={
            "name": Text(doc="Display name."),
            "email": Text(doc="Address; git's user.email is matched to it."),
            "team": Text(doc="The agent's team."),
            "role": Text(choices=ROLES, doc="What the agent does."),
            "phone": Text(doc="A mobile number, for notices sent by SMS."),
            "skills": Seq(Text(), doc="Types, categories or products the agent handles."),
            "regions": Seq(Text(), doc="Regions the agent covers on site."),
            "capacity": Whole(minimum=0, doc="Most open tickets at once."),
            "days_off": Seq(Text(), doc="Days off: dates (2026-12-24), ranges "
                                   "(2026-12-28..2027-01-02) or weekdays (sat, sun)."),
        })),
    "priority": Record(doc="How a ticket's priority follows from impact x urgency.",
                       required=("matrix",), keys={
        "matrix": Table(value=Table(value=Text()),
                        doc="impact -> urgency -> priority: every impact and urgency."),
        "default_impact": Text(doc="The impact of a ticket that gives only an urgency."),
        "default_urgency": Text(doc="The urgency of a ticket that gives only an impact."),
        "raise": Table(value=Whole(minimum=0, maximum=3), nonempty=False,
                       doc="Customer tier -> how many levels it raises the priority."),
    }),
    "workflow": Record(doc="The ticket workflow (left out: svcdesk's own eight actions).",
                       required=("transitions",), keys={
        "transitions": Table(key=r"[a-z][a-z0-9_\-]*",
                             doc="The actions: from which statuses to which, what each "
                                 "needs, who may take it and whom it tells.", value=Record(
            required=("from",), keys={
                "label": Text(doc="显示名 of the action (审核通过)."),
                "label_en": Text(doc="English name of the action."),
                "from": Seq(Text(), doc="Statuses the action is allowed from."),
                "to": Text(doc="The status it leads to (left out: the status stays)."),
                "requires": Seq(Text(), doc="What must be there: note (a message), or "
                                            "fields that must be filled in afterwards."),
                "by": Seq(Text(choices=ROLES), doc="Only agents of these roles may take it "
                                                    "(an approval by a lead, say)."),
                "notices": Seq(Text(pattern=r"[a-z][a-z0-9_]*"),
                               doc="The notice events it queues (routed under "
                                   "notices.events); left out: status_changed when it "
                                   "moves the ticket."),
            })),
    }),
    "classify": Seq(doc="Classification rules, tried in order; the first that matches "
                        "decides, unless it says continue.", item=Record(
        required=("name",), keys={
            "name": Text(doc="The rule's name, recorded on the tickets it decides."),
            "when": Record(doc="Conditions, all of which must hold (none: always).", keys={
                "keywords": Seq(Text(), doc="Any of these words occurs in the text."),
                "all_keywords": Seq(Text(), doc="Every one of these words occurs."),
                "not_keywords": Seq(Text(), doc="None of these words occurs."),
                "regex": Text(doc="A regular expression found in the text (case ignored)."),
                "in": Text(choices=("text", "title", "description"),
                           doc="Where the words and regex look: title, description, or "
                               "text (both, the default)."),
                "fields": Table(value=Values(), key=r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?",
                                doc="Field -> a value or a list of values (* wildcards for "
                                    "text; ~ for not set)."),
            }),
            "set": Table(value=Values(), key=r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?",
                         doc="Field -> value to set (type, category, priority, team, impact, "
                             "urgency... any field a person may set)."),
            "tags": Seq(Text(), doc="Tags to add."),
            "continue": Either(options=(Flag(), Text()), what="true, false or a rule name",
                               doc="Go on with the next rule (true) or a later rule by name."),
        })),
    "calendars": Table(doc="Business calendars: working hours, holidays, make-up days.",
                       value=Record(required=("hours",), keys={
        "label": Text(doc="显示名"),
        "timezone": Text(doc="IANA time zone of its hours (default: desk.timezone)."),
        "base": Text(choices=("cn",), doc="Built-in statutory holidays and make-up working "
                                          "days (cn: China's 法定节假日 and 调休)."),
        "hours": Table(value=Seq(Text()), key=r"[A-Za-z]{3}(-[A-Za-z]{3})?",
                       doc="Weekday or range (mon-fri) -> working spans, e.g. "
                           "[\"09:00-12:00\", \"13:00-18:00\"]."),
        "holidays": Seq(Text(), doc="The desk's own days off: dates or ranges "
                                    "(2027-02-05..2027-02-11)."),
        "workdays": Seq(Text(), doc="Extra working days (make-up days), with the hours of "
                                    "the first working weekday."),
    })),
    "sla": Record(doc="Service levels: the promised times.", required=("policies",), keys={
        "calendar": Text(doc="The calendar policies use unless they name one (default: the "
                             "first under calendars:)."),
        "warn_at": Whole(minimum=1, maximum=99,
                         doc="Warn when this percent of a target is used up (default 80)."),
        "first_response": Seq(Text(), doc="Actions that count as the first response besides "
                                          "a public comment or a notice sent by hand "
                                          "(default [wait, resolve])."),
        "pause": Seq(Text(), doc="Statuses whose time does not count (default [waiting])."),
        "policies": Seq(doc="Policies, first match wins.", item=Record(
            required=("name",), keys={
                "name": Text(doc="The policy's name, kept on each ticket it applies to."),
                "priority": Values(doc="Priorities it applies to (left out: all)."),
                "tier": Values(doc="Customer tiers it applies to (left out: all)."),
                "type": Values(doc="Ticket types it applies to (left out: all)."),
                "region": Values(doc="Customer regions it applies to (left out: all)."),
                "warranty": Values(doc="Warranty states it applies to: in, extended, out, "
                                       "unknown (left out: all)."),
                "response": Text(doc="First response target in working time: 30m, 2h, 1d."),
                "resolution": Text(doc="Resolution target in working time."),
                "update": Text(doc="How often the customer is told of progress while open."),
                "calendar": Text(doc="The calendar its times count on."),
            })),
    }),
    "escalation": Seq(doc="The escalation ladder: steps sla check takes once per ticket.",
                      item=Record(required=("name", "target", "at"), keys={
        "name": Text(doc="The step's name, recorded on the ticket."),
        "target": Text(choices=("response", "resolution"), doc="Which promise it watches."),
        "at": Whole(minimum=1, maximum=1000,
                    doc="Percent of the target used up (100: breached)."),
        "notify": Seq(Text(), doc="Who is told: assignee, team_lead, manager, customer, or "
                                  "an email address."),
        "raise_priority": Whole(minimum=1, maximum=3, doc="Raise the priority this many "
                                                         "levels."),
        "reassign": Text(choices=("lead", "manager", "auto"),
                         doc="Hand the ticket to the team lead, the manager, or whoever the "
                             "assignment strategies pick next."),
    })),
    "mail": Record(doc="Mail in: the service mailbox svcdesk reads (`svcdesk mail fetch`).",
                   keys={
        "reopen_when": Seq(Text(), doc="Words in a reply to a resolved ticket that reopen it "
                                       "(default: 没有解决, 还是不行, not fixed...)."),
        "progress_when": Seq(Text(), doc="Words that, as all a customer's short message "
                                         "says, ask for the ticket's progress (default: 进度, "
                                         "查询, 进展, status, progress)."),
        "most_per_hour": Whole(minimum=1, maximum=10_000,
                               doc="New tickets one sender may open by mail in an hour; "
                                   "more are kept aside for review (default 10)."),
        "imap": Record(doc="The IMAP mailbox (the password only in SVCDESK_IMAP_PASSWORD).",
                       required=("host", "user"), keys={
            "host": Text(doc="The IMAP server."),
            "port": Whole(minimum=1, maximum=65535,
                          doc="Its port (default 993 with ssl, else 143)."),
            "user": Text(doc="The login, often the mailbox's address."),
            "folder": Text(doc="The folder to read (default INBOX)."),
            "security": Text(choices=("ssl", "starttls", "plain"),
                             doc="ssl (IMAPS, default), starttls, or plain (only for a "
                                 "server on this machine)."),
            "cafile": Text(doc="A CA certificate file to trust (a private CA)."),
            "done": Text(pattern=r"seen|move:.+",
                         doc="What happens to a message once taken: seen (flag it, default) "
                             "or move:FOLDER."),
        }),
    }),
    "imports": Table(doc="Export layouts `svcdesk import` reads (淘宝, 京东...): name -> layout.",
                     value=Record(required=("key", "columns"), keys={
        "label": Text(doc="What the layout is, for people (淘宝/天猫 退款售后导出)."),
        "key": Text(doc="The column of the platform's own number (退款编号, 服务单号): a row "
                        "whose number was imported before is skipped."),
        "columns": Table(doc="Field -> the column (or list of columns) it comes from.",
                         value=Either(options=(Text(), Seq(Text())),
                                      what="a column or a list of columns")),
        "values": Table(doc="Field -> {what the export says: the desk's value} (退货退款: "
                            "refund); a value not listed refuses the row.",
                        value=Table(key=r"(?s).+", value=Text())),
        "set": Table(doc="Field -> the value every row gets (channel: ecommerce).",
                     value=Values()),
    })),
    "products": Table(doc="The product catalogue: model -> what the desk knows of it (a ticket "
                          "or unit of this model gets its category and warranty).",
                      key=r"(?s)[^\n]{1,100}", value=Record(keys={
        "label": Text(doc="显示名, when other than the model."),
        "category": Text(doc="The problem category its tickets get unless one is given."),
        "warranty_months": Whole(minimum=0, maximum=240,
                                 doc="Its warranty (default: desk.warranty_months)."),
        "fees": Table(value=Money(), nonempty=False,
                      doc="Its fee schedule out of warranty, where it differs from fees: "
                          "(labour, travel)."),
    })),
    "fees": Record(doc="Fees out of warranty (保外收费): the schedule a quote starts from.",
                   keys={
        "labour": Money(doc="人工费: labour per repair, in yuan (default 0)."),
        "travel": Money(doc="上门费: travel per on-site visit, in yuan (default 0)."),
        "approval": Flag(doc="true: work on an out-of-warranty ticket with a quote starts "
                             "only after the customer approved it (`svcdesk approve`)."),
    }),
    "words": Seq(Text(pattern=r"[^\s]{2,20}"),
                  doc="Words of this desk's trade the segmenter should keep whole (型号, "
                      "部件名: 定影组件), for similar tickets, knowledge search and the "
                      "report's recurring problems."),
    "warehouses": Table(doc="Where spare parts are kept: key -> label (default: main, 总仓).",
                        value=Label()),
    "parts": Record(doc="Spare parts (备件) taken from stock.", keys={
        "warehouse": Text(doc="The warehouse `parts use` takes from unless told (default: "
                              "the first under warehouses:)."),
        "backorders": Flag(doc="true: a use past the stock is recorded as a backorder "
                               "(stock below zero); false (default): it is refused."),
    }),
    "attachments": Record(doc="Files attached to tickets (`svcdesk attach`, mail).", keys={
        "max_bytes": Whole(minimum=1, maximum=1 << 30,
                           doc="The largest file one may attach, in bytes (default 20 MiB); "
                               "`attach` refuses a larger one and a message bringing one is "
                               "taken with the file kept in the quarantine."),
    }),
    "notices": Record(doc="Who is told what: by email, SMS, group robots and webhooks.",
                      keys={
        "sender": Record(required=("email",), doc="Who notices come from.", keys={
            "name": Text(doc="Display name, e.g. the desk's name."),
            "email": Text(doc="The From address; replies should reach the desk."),
        }),
        "smtp": Text(doc="Where to deliver: smtp://user@host:587?starttls=1 or "
                         "smtps://host:465 (SVCDESK_SMTP_URL wins; the password only ever "
                         "from SVCDESK_SMTP_PASSWORD). Left out: notices stay in the outbox."),
        "channels": Table(key=r"[a-z][a-z0-9_\-]*", nonempty=False,
                          doc="Ways besides email (docs/channels.md): name -> a group "
                              "robot, an SMS gateway or a webhook.", value=Record(
            required=("kind",), keys={
                "kind": Text(choices=("dingtalk", "wecom", "feishu", "sms", "webhook"),
                             doc="钉钉, 企业微信 or 飞书 group robot, SMS, or a JSON webhook."),
                "url": Text(doc="The address, when it holds no secret."),
                "url_env": Text(pattern=_ENV, doc="The environment variable holding the "
                                                  "address (a robot's address is its key)."),
                "secret_env": Text(pattern=_ENV, doc="The environment variable holding the "
                                                     "signing secret (钉钉 加签, 飞书 签名校验, "
                                                     "the webhook's HMAC, Aliyun's "
                                                     "AccessKeySecret)."),
                "format": Text(choices=("markdown", "text", "card"),
                               doc="How a robot's message is laid out (default markdown; "
                                   "card on 飞书)."),
                "gateway": Text(choices=("aliyun", "http"),
                                doc="sms: Aliyun SMS (signed requests), or any HTTP gateway "
                                    "described by request:."),
                "key_id_env": Text(pattern=_ENV, doc="aliyun: the variable holding the "
                                                     "AccessKeyId."),
                "sign_name": Text(doc="aliyun: the approved 短信签名."),
                "template_code": Text(doc="aliyun: the approved template (SMS_...); it is "
                                          "given the text as ${content}."),
                "request": Record(doc="http: the request, rendered for each message.",
                                  keys={
                    "method": Text(choices=("GET", "POST"), doc="GET or POST (default)."),
                    "headers": Table(value=Text(), nonempty=False,
                                     key=r"[A-Za-z0-9\-]+", doc="Headers (templates)."),
                    "body": Text(doc="The body: a template given phone, text and secret."),
                }),
                "ok": Record(doc="http: the answer that means sent.", keys={
                    "field": Text(doc="A field of the JSON answer (dotted path)."),
                    "equals": Text(doc="What it must be."),
                }),
                "parts": Whole(minimum=1, maximum=10,
                               doc="sms: the most parts a message may take (70 Chinese "
                                   "characters each, 67 once split; default 3)."),
            })),
        "events": Table(doc="Event (created, assigned, status_changed, commented, "
                            "waiting_reminder, sla_warning, breached, escalated, resolved, "
                            "closed, survey, quoted, or one an action declares) -> the "
                            "notices it sends.",
                        nonempty=False, value=Seq(Record(required=("template", "to"), keys={
                            "template": Text(pattern=r"[a-z][a-z0-9_]*",
                                             doc="templates/notices/NAME.j2 (NAME.en.j2 in "
                                                 "English; NAME.sms.j2 and NAME.md.j2 for "
                                                 "SMS and group robots)."),
                            "to": Seq(Text(), doc="customer, assignee, team_lead, manager, "
                                                  "team, email addresses, or channels (a "
                                                  "group robot or webhook by its name)."),
                            "via": Seq(Text(), doc="How people are told: email (the "
                                                   "default) and/or SMS channels."),
                        }))),
    }),
    "automation": Record(doc="Time rules sla check runs.", keys={
        "close_resolved_after": Text(doc="Close resolved tickets after this much working "
                                         "time without a reply (e.g. 3d)."),
        "remind_waiting_after": Text(doc="Remind the customer after this much working time "
                                         "waiting on them, and again each time it passes."),
    }),
    "assign": Record(doc="How tickets are assigned.", keys={
        "strategies": Seq(Text(choices=("skill", "region", "least_loaded", "round_robin")),
                          doc="Applied in order: skill and region narrow the candidates, "
                              "least_loaded and round_robin order them."),
        "auto": Flag(doc="Assign new tickets automatically (default true)."),
    }),
})
