"""How a ticket and a list of tickets read on a terminal, in the desk's language."""

from datetime import datetime

from svcdesk import model
from svcdesk.cli.output import clip, style, table

WORDS = {
    "zh": {"customer": "客户", "product": "产品", "problem": "问题", "timeline": "时间线",
           "created": "创建", "updated": "更新", "none": "—", "internal": "内部备注",
           "comment": "沟通记录", "create": "创建工单", "edit": "修改工单",
           "hand-edit": "文件被手工修改", "assign": "派工", "start": "开始处理",
           "wait": "等待客户反馈", "resume": "恢复处理", "escalate": "升级处理",
           "resolve": "处理完成", "close": "客户确认关闭", "reopen": "重新打开",
           "classify": "自动分类", "re-priority": "调整优先级", "status": "状态", "priority": "优先级",
           "type": "类型", "channel": "渠道", "assignee": "处理人", "team": "处理组",
           "title": "标题", "id": "工单号", "resolution": "处理结果", "csat": "满意度",
           "unreadable": "个工单文件无法读取", "count": "共 {n} 个工单",
           "found": "找到 {n} 个工单", "match": "匹配内容"},
    "en": {"customer": "Customer", "product": "Product", "problem": "Problem",
           "timeline": "Timeline", "created": "Created", "updated": "Updated", "none": "—",
           "internal": "internal note", "comment": "comment", "create": "created",
           "edit": "edited", "hand-edit": "edited by hand", "assign": "assigned",
           "start": "started", "wait": "waiting on customer", "resume": "resumed",
           "escalate": "escalated", "resolve": "resolved", "close": "closed (confirmed)",
           "reopen": "reopened", "classify": "classified", "re-priority": "priority changed",
           "status": "Status",
           "priority": "Priority", "type": "Type", "channel": "Channel",
           "assignee": "Assignee", "team": "Team", "title": "Title", "id": "ID",
           "resolution": "Resolution", "csat": "CSAT",
           "unreadable": "ticket file(s) could not be read", "count": "{n} ticket(s)",
           "found": "{n} ticket(s) found", "match": "Match"},
}


def words(rules) -> dict:
    """The words for the desk's language."""
    return WORDS.get(rules.language, WORDS["en"])


def when(value, tz) -> str:
    """A time (or its ISO 8601 text) as people read it in the desk's zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return str(value) if value is not None else ""


def render_ticket(ticket: model.Ticket, rules) -> str:
    """The readable view of one ticket, with its timeline."""
    w, f, tz = words(rules), ticket.fields, rules.tz
    schema = rules.schema
    lines = [style(f"{f['id']}  {f.get('title', '')}", bold=True)]
    facts = [
        f"{w['status']} {style(rules.label('statuses', f.get('status')), fg='cyan')}"
        f" ({f.get('status')})",
        f"{w['priority']} {_priority(f.get('priority'), rules)}",
        f"{w['type']} {rules.label('types', f.get('type'))}",
    ]
    if f.get("channel"):
        facts.append(f"{w['channel']} {rules.label('channels', f['channel'])}")
    lines.append(" · ".join(facts))
    lines.append(f"{w['created']} {when(f.get('created'), tz)} · "
                 f"{w['updated']} {when(f.get('updated'), tz)}")
    lines.append(f"{w['assignee']} {rules.label('agents', f['assignee']) if f.get('assignee') else w['none']}"
                 f" · {w['team']} {rules.label('teams', f['team']) if f.get('team') else w['none']}")
    shown = {"id", "uid", "title", "status", "priority", "type", "channel", "created",
             "updated", "assignee", "team", "description", "resolution"}
    for group in schema.groups:
        block = [(schema.specs[f"{group}.{k}"], v) for k, v in f.get(group, {}).items()
                 if f"{group}.{k}" in schema.specs]
        if block:
            lines += ["", style(w.get(group, group.capitalize()), bold=True)]
            lines += [f"  {_label(s, rules)}  {_value(s, v, rules)}" for s, v in block]
        shown.add(group)
    if f.get("description"):
        lines += ["", style(_label(schema.specs["description"], rules), bold=True)]
        lines += [f"  {line}" for line in f["description"].splitlines()]
    rest = [(schema.specs[k], v) for k, v in f.items() if k not in shown and k in schema.specs]
    if rest:
        lines.append("")
        lines += [f"{_label(s, rules)}  {_value(s, v, rules)}" for s, v in rest]
    if f.get("resolution"):
        lines += ["", style(w["resolution"], bold=True)]
        lines += [f"  {line}" for line in f["resolution"].splitlines()]
    lines += ["", style(w["timeline"], bold=True)]
    for event in ticket.events:
        lines += _event_lines(event, rules, w)
    return "\n".join(lines)


def _event_lines(event: model.Event, rules, w) -> list:
    who = rules.label("agents", event.by) if event.by in rules.agents else event.by
    what = w.get("re-priority" if event.action == "priority" else event.action, event.action)
    if event.action == "comment" and event.visibility == "internal":
        what = w["internal"]
    head = f"  {style(when(event.at, rules.tz), fg='bright_black')}  {who}  {what}"
    if event.rule:
        head += f" (rule: {event.rule})"
    out = [head]
    for path, (old, new) in event.changes.items():
        spec = rules.schema.specs.get(path)
        name = _label(spec, rules) if spec else path
        out.append(f"      {name}: {_value(spec, old, rules) if old is not None else w['none']}"
                   f" → {_value(spec, new, rules) if new is not None else w['none']}")
    if event.note:
        out += [f"      {line}" for line in event.note.splitlines()]
    return out


def _label(spec, rules) -> str:
    return spec.label if rules.language == "zh" else (spec.label_en or spec.name)


def _value(spec, value, rules) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return when(value, rules.tz)
    if spec is not None and spec.type == "enum" and spec.choices.get(value):
        label = spec.choices[value]
        return label if label == value else f"{label} ({value})"
    return str(value)


def _priority(priority, rules) -> str:
    text = f"{priority} {rules.label('priorities', priority)}"
    colours = {0: "red", 1: "yellow"}
    rank = list(rules.priorities).index(priority) if priority in rules.priorities else 9
    return style(text, fg=colours[rank], bold=rank == 0) if rank in colours else text


LIST_COLUMNS = ("id", "status", "priority", "type", "title", "customer", "assignee", "created")


def render_list(records: list, rules, title_width: int = 36) -> str:
    """The table of `svcdesk list`."""
    w = words(rules)
    headers = [w["id"], w["status"], w["priority"], w["type"], w["title"], w["customer"],
               w["assignee"], w["created"]]
    rows = []
    for f in records:
        customer = f.get("customer", {})
        rows.append([
            f["id"], rules.label("statuses", f.get("status")), f.get("priority", ""),
            rules.label("types", f.get("type")), clip(f.get("title", ""), title_width),
            clip(customer.get("company") or customer.get("name") or "", 16),
            rules.label("agents", f["assignee"]) if f.get("assignee") else "",
            when(f.get("created"), rules.tz),
        ])
    return table(rows, headers)


def render_hits(hits: list, rules, title_width: int = 30, snippet_width: int = 44) -> str:
    """The table of `svcdesk search`: best match first, with the text around it."""
    w = words(rules)
    rows = [[h.fields["id"], rules.label("statuses", h.fields.get("status")),
             clip(h.fields.get("title", ""), title_width), clip(h.snippet, snippet_width)]
            for h in hits]
    return table(rows, [w["id"], w["status"], w["title"], w["match"]])
