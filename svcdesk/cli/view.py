"""How a ticket and a list of tickets read on a terminal, in the desk's language."""

from datetime import datetime

from svcdesk.base import model
from svcdesk.cli.output import clip, style, table

WORDS = {
    "zh": {"customer": "客户", "product": "产品", "problem": "问题", "timeline": "时间线",
           "created": "创建", "updated": "更新", "none": "—", "internal": "内部备注",
           "comment": "沟通记录", "create": "创建工单", "edit": "修改工单",
           "hand-edit": "文件被手工修改", "assign": "派工", "start": "开始处理",
           "wait": "等待客户反馈", "resume": "恢复处理", "escalate": "升级处理",
           "resolve": "处理完成", "close": "客户确认关闭", "reopen": "重新打开",
           "classify": "自动分类", "attach": "添加附件", "re-priority": "调整优先级",
           "status": "状态", "priority": "优先级",
           "type": "类型", "channel": "渠道", "assignee": "处理人", "team": "处理组",
           "title": "标题", "id": "工单号", "resolution": "处理结果", "csat": "满意度",
           "unreadable": "个工单文件无法读取", "count": "共 {n} 个工单",
           "count_of": "共 {total} 个工单，显示 {n} 个",
           "found": "找到 {n} 个工单", "match": "匹配内容",
           "sla": "服务时限", "response_clock": "首次响应", "resolution_clock": "解决时限",
           "update": "进展通报", "due": "截止", "left": "剩余", "over": "超时",
           "met_at": "完成于", "running": "计时中", "paused": "已暂停", "met": "达标",
           "breached": "已超时", "working": "工作时间", "counted": "计时",
           "stopped": "停止", "policy": "服务等级", "calendar": "工作日历",
           "sla-event": "时限提醒", "remind": "提醒客户", "no-sla": "没有适用的服务等级",
           "now-under": "改为", "no-policy": "不再适用服务等级", "was-left": "此前",
           "conflict": "⚠ 两个副本同时修改了{field}：这次修改基于 {made}，合并后此前已是 {found}",
           "provisional": "编号暂定：同步（svcdesk sync）后才确定，可能改号",
           "attachments": "附件", "absent": "不在本副本中", "fee": "费用（保外）",
           "visit": "上门服务", "visit-event": "预约上门", "depart": "工程师出发",
           "arrive": "到达现场",
           "leave": "离开现场",
           "part-use": "使用备件", "part-return": "退回备件", "quote": "报价",
           "approve": "客户同意报价", "decline": "客户拒绝报价", "charge": "收费",
           "links": "关联工单", "link": "关联工单", "unlink": "取消关联", "merge": "合并重复工单",
           "similar": "相似的已解决工单", "kb": "知识库文章", "took": "用时"},
    "en": {"customer": "Customer", "product": "Product", "problem": "Problem",
           "timeline": "Timeline", "created": "Created", "updated": "Updated", "none": "—",
           "internal": "internal note", "comment": "comment", "create": "created",
           "edit": "edited", "hand-edit": "edited by hand", "assign": "assigned",
           "start": "started", "wait": "waiting on customer", "resume": "resumed",
           "escalate": "escalated", "resolve": "resolved", "close": "closed (confirmed)",
           "reopen": "reopened", "classify": "classified", "attach": "attached",
           "re-priority": "priority changed", "status": "Status", "priority": "Priority",
           "type": "Type", "channel": "Channel",
           "assignee": "Assignee", "team": "Team", "title": "Title", "id": "ID",
           "resolution": "Resolution", "csat": "CSAT",
           "unreadable": "ticket file(s) could not be read", "count": "{n} ticket(s)",
           "count_of": "{n} of {total} tickets shown",
           "found": "{n} ticket(s) found", "match": "Match",
           "sla": "Service level", "response_clock": "First response",
           "resolution_clock": "Resolution",
           "update": "Progress update", "due": "due", "left": "left", "over": "over by",
           "met_at": "done", "running": "running", "paused": "paused", "met": "met",
           "breached": "breached", "working": "working time", "counted": "counted",
           "stopped": "stopped", "policy": "Policy", "calendar": "Calendar",
           "sla-event": "SLA", "remind": "customer reminded", "no-sla": "no service level applies",
           "now-under": "now under", "no-policy": "no service level applies any more",
           "was-left": "before",
           "conflict": "⚠ two clones changed {field} at once: this change was made on {made}, "
                       "the merged history had {found} before it",
           "provisional": "provisional number: final once synced (svcdesk sync); it may "
                          "still change",
           "attachments": "Attachments", "absent": "not in this clone",
           "fee": "Fees (out of warranty)", "part-use": "part used",
           "visit": "On-site visit", "visit-event": "visit booked",
           "depart": "engineer set off", "arrive": "arrived on site",
           "leave": "left the site",
           "part-return": "part given back", "quote": "quoted",
           "approve": "quote approved", "decline": "quote declined", "charge": "charged",
           "links": "Linked tickets", "link": "linked", "unlink": "unlinked",
           "merge": "merged duplicate", "similar": "Similar solved tickets",
           "kb": "Knowledge base", "took": "took"},
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


def render_ticket(ticket: model.Ticket, rules, level=None, conflicts=(), provisional=False,
                  attached=(), linked=()) -> str:
    """The readable view of one ticket, with its timeline; ``conflicts`` (from a merge of
    two clones' work) are marked on their events, a ``provisional`` number is said so;
    ``attached``: its files (app.attachments.Listed); ``linked``: the tickets it links to
    (app.links.shown)."""
    w, f, tz = words(rules), ticket.fields, rules.tz
    schema = rules.schema
    lines = [style(f"{f['id']}  {f.get('title', '')}", bold=True)]
    if provisional:
        lines.append(style(w["provisional"], fg="yellow"))
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
             "updated", "assignee", "team", "description", "resolution", "attachments"}
    for group in schema.groups:
        if group in ("sla", "links"):
            shown.add(group)
            continue
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
    if linked:
        lines += ["", style(w["links"], bold=True)]
        rows = [(_label(schema.specs[f"links.{slot}"], rules), number, title,
                 rules.label("statuses", status) if status else "")
                for slot, number, title, status in linked]
        lines += ["  " + line for line in table(rows, ()).splitlines()]
    if attached:
        from svcdesk.app.attachments import size_text

        lines += ["", style(w["attachments"], bold=True)]
        rows = [(item.name, w["absent"] if item.size is None else size_text(item.size),
                 item.digest) for item in attached]
        lines += ["  " + line for line in table(rows, ()).splitlines()]
    if f.get("resolution"):
        lines += ["", style(w["resolution"], bold=True)]
        lines += [f"  {line}" for line in f["resolution"].splitlines()]
    if level is not None:
        lines += ["", style(f"{w['sla']} · {level.policy.name} · "
                            f"{level.policy.calendar.label or level.policy.calendar.name}",
                            bold=True)]
        lines += _clock_lines(level, rules, w)
    lines += ["", style(w["timeline"], bold=True)]
    clashes: dict = {}
    for conflict in conflicts:
        clashes.setdefault(conflict.event.id, []).append(conflict)
    for event in ticket.events:
        lines += _event_lines(event, rules, w)
        for conflict in clashes.get(event.id, ()):
            spec = rules.schema.specs.get(conflict.path)
            lines.append(style("      " + w["conflict"].format(
                field=_label(spec, rules) if spec else conflict.path,
                made=_value(spec, conflict.made_on, rules) or w["none"],
                found=_value(spec, conflict.found, rules) or w["none"]), fg="yellow"))
    return "\n".join(lines)


_STATE_COLOURS = {"running": "green", "paused": "yellow", "met": "green", "breached": "red"}


def _clock_lines(level, rules, w) -> list:
    """One line per target: due time, working time left (or over), and its state."""
    from svcdesk.app.clocks import duration_text

    lang, tz = rules.language, rules.tz
    out = []
    for target, clock in level.clocks.items():
        parts = [f"{w['due']} {when(clock.due, tz)}" if clock.due else w["paused"]]
        if clock.stopped is not None:
            parts.append(f"{w['met_at']} {when(clock.stopped, tz)}")
        elif clock.remaining >= 0:
            parts.append(f"{w['left']} {duration_text(clock.remaining, lang)} {w['working']}")
        else:
            parts.append(f"{w['over']} {duration_text(-clock.remaining, lang)} {w['working']}")
        state = style(w[clock.state], fg=_STATE_COLOURS[clock.state], bold=clock.state ==
                      "breached")
        out.append(f"  {w[target + '_clock']}  {' · '.join(parts)} · {state}"
                   f"  ({duration_text(clock.minutes, lang)})")
    if level.update_due is not None:
        out.append(f"  {w['update']}  {w['due']} {when(level.update_due, tz)}")
    return out


def render_clock_timeline(ticket: model.Ticket, level, rules) -> str:
    """`sla explain`: the policy, each clock and every span it counted or paused."""
    from svcdesk.app.clocks import duration_text

    w, tz = words(rules), rules.tz
    lines = [style(f"{ticket.number}  {ticket.get('title', '')}", bold=True)]
    if level is None:
        return "\n".join(lines + [w["no-sla"]])
    calendar = level.policy.calendar
    label = f" ({calendar.label})" if calendar.label != calendar.name else ""
    lines.append(f"{w['policy']} {level.policy.name} · {w['calendar']} {calendar.name}{label}")
    lines += _clock_lines(level, rules, w)
    for target, clock in level.clocks.items():
        lines += ["", style(f"{w[target + '_clock']} "
                            f"({duration_text(clock.minutes, rules.language)})",
                            bold=True)]
        total, marks = 0.0, list(clock.changes)
        for span in clock.spans:
            while marks and marks[0].at <= span.start:
                lines.append(_change_line(marks.pop(0), rules, w))
            end = span.end or clock.at
            if end <= span.start:
                continue
            total += span.worked
            status = rules.label("statuses", span.status)
            counted = (f"+{duration_text(span.worked, rules.language)} = "
                       f"{duration_text(total, rules.language)}") if span.kind == "counted" \
                else ""
            lines.append(f"  {when(span.start, tz)} → "
                         f"{when(span.end, tz) if span.end else when(clock.at, tz) + ' (now)'}"
                         f"  {status}  {w[span.kind]}  {counted}".rstrip())
        lines += [_change_line(mark, rules, w) for mark in marks]
    return "\n".join(lines)


def _change_line(change, rules, w) -> str:
    """A change of policy on a clock's timeline: its new target and what is left."""
    from svcdesk.app.clocks import duration_text

    if change.policy is None:
        return f"  {when(change.at, rules.tz)}  {w['no-policy']}"
    left = ""
    if change.left_after is not None:
        was = (f" ({w['was-left']} {_signed(change.left_before, rules, w)})"
               if change.left_before is not None else "")
        left = f" · {_signed(change.left_after, rules, w)}{was}"
    return (f"  {when(change.at, rules.tz)}  {w['now-under']} {change.policy} "
            f"({duration_text(change.minutes, rules.language)}){left}")


def _signed(minutes: float, rules, w) -> str:
    from svcdesk.app.clocks import duration_text

    if minutes >= 0:
        return f"{w['left']} {duration_text(minutes, rules.language)}"
    return f"{w['over']} {duration_text(-minutes, rules.language)}"


def _event_lines(event: model.Event, rules, w) -> list:
    who = rules.label("agents", event.by) if event.by in rules.agents else event.by
    what = w.get({"priority": "re-priority", "sla": "sla-event", "visit": "visit-event"}.get(
        event.action, event.action)) or rules.label("actions", event.action)
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
