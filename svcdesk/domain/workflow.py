"""The ticket workflow: statuses and the actions between them, declared in rules.yaml
(``workflow.transitions``), enforced on every change and checked as a graph.

svcdesk's eight own actions are a declaration too (DEFAULT, used by a rules.yaml with no
``workflow:``); what they do besides moving the status (assign chooses an agent, resolve
records the resolution...) is their command's. A desk adds its own actions (a review before
close, a wait for parts, an engineer setting off) by declaring them: from, to, what they
need, who may take them, and the notices they queue."""

from typing import NamedTuple

from svcdesk.base.errors import WorkflowError
from svcdesk.base.model import get_path
from svcdesk.domain.sla import SYSTEM

# The actions with svcdesk's own commands, doing more than move the status (intake
# assigns, mail resumes and reopens, the time rules close, a visit records its times); a
# desk's other actions go through `do`. The visit's four move a ticket only where the
# workflow declares them.
BUILT_IN = ("assign", "start", "wait", "resume", "resolve", "close", "reopen", "escalate",
            "visit", "depart", "arrive", "leave")
ROLES = ("agent", "engineer", "specialist", "lead", "manager")  # rules.yaml agents.*.role

# The notice events an action queues when its declaration does not say (status changes
# tell the customer; assign and escalate are noticed by the change of assignee)
DEFAULT_NOTICES = {"assign": (), "escalate": (), "resolve": ("resolved",),
                   "close": ("closed", "survey"), "visit": ("visit_booked",),
                   "depart": ("departed",), "arrive": ("arrived",), "leave": ()}

# What svcdesk's own actions are called where a declaration does not say
LABELS = {"assign": ("派工", "Assign"), "start": ("开始处理", "Start"),
          "wait": ("等待客户", "Wait on the customer"), "resume": ("继续处理", "Resume"),
          "resolve": ("处理完成", "Resolve"), "close": ("关闭", "Close"),
          "reopen": ("重新打开", "Reopen"), "escalate": ("升级", "Escalate"),
          "visit": ("预约上门", "Book a visit"), "depart": ("工程师出发", "Set off"),
          "arrive": ("到达现场", "Arrive on site"), "leave": ("离开现场", "Leave the site")}

# The workflow of a rules.yaml that declares none, as it would be written there.
_OPEN = ["new", "assigned", "in_progress", "waiting", "reopened"]
DEFAULT = {"transitions": {
    "assign": {"from": _OPEN, "to": "assigned"},
    "start": {"from": ["new", "assigned", "reopened"], "to": "in_progress",
              "requires": ["assignee"]},
    "wait": {"from": ["assigned", "in_progress", "reopened"], "to": "waiting",
             "requires": ["note"]},
    "resume": {"from": ["waiting"], "to": "in_progress"},
    "resolve": {"from": ["assigned", "in_progress", "waiting", "reopened"], "to": "resolved",
                "requires": ["resolution"]},
    "close": {"from": ["resolved"], "to": "closed"},
    "reopen": {"from": ["resolved", "closed"], "to": "reopened", "requires": ["note"]},
    "escalate": {"from": _OPEN, "requires": ["note"]},
}}


def default_statuses() -> list:
    """The statuses svcdesk's own workflow names, in the order it names them."""
    named = [s for rule in DEFAULT["transitions"].values()
             for s in (*rule["from"], rule.get("to")) if s]
    return list(dict.fromkeys(named))


class Transition(NamedTuple):
    """What one action may do: from which statuses, to which, what it needs, who may take
    it and the notice events it queues."""

    action: str
    sources: tuple
    target: str | None  # None: the status stays
    requires: tuple = ()
    label: str = ""
    label_en: str = ""
    roles: tuple = ()  # agents' roles that may take it (empty: anyone)
    notices: tuple | None = None  # None: DEFAULT_NOTICES, else status_changed on a move

    def queues(self) -> tuple:
        """The notice events this action queues when it is taken."""
        if self.notices is not None:
            return self.notices
        if self.action in DEFAULT_NOTICES:
            return DEFAULT_NOTICES[self.action]
        return ("status_changed",) if self.target else ()


def refusal(transitions: dict, statuses: dict, number: str, status: str, action: str,
            role: str | None = None, by: str = SYSTEM) -> str | None:
    """Why ``action`` may not be taken from ``status`` by ``by`` (an agent of ``role``, the
    desk itself, or anyone else such as a customer), or None when it may."""
    rule = transitions.get(action)
    if rule is None:
        return f"the workflow in rules.yaml has no {action!r} action"
    if status not in rule.sources:
        label = statuses[status].label if status in statuses else status
        allowed = [s for s in rule.sources if s in statuses]
        return (f"{number} is {status} ({label}); {action} is allowed only from "
                + ", ".join(allowed))
    if rule.roles and by != SYSTEM and role not in rule.roles:
        return (f"{action} is for the roles {', '.join(rule.roles)} (rules.yaml workflow); "
                + (f"{by}'s role is {role}" if role else f"{by} is not an agent"))
    return None


def check(transitions: dict, statuses: dict, number: str, status: str, action: str,
          after: dict, note: str | None, role: str | None = None,
          by: str = SYSTEM) -> str:
    """Return the status ``action`` leads to from ``status``; raise WorkflowError, naming
    what is wrong and what is allowed, when the declaration does not allow it."""
    why = refusal(transitions, statuses, number, status, action, role, by)
    if why:
        raise WorkflowError(why)
    rule = transitions[action]
    for need in rule.requires:
        if need == "note":
            if not (note and note.strip()):
                raise WorkflowError(f"{action} needs a reason: -m TEXT")
        elif get_path(after, need) in (None, "", []):
            raise WorkflowError(f"{action} needs {need} (rules.yaml workflow requires it)")
    return rule.target or status


def reachable(transitions: dict, start: str) -> set:
    """The statuses a ticket can reach from ``start``."""
    seen, todo = {start}, [start]
    while todo:
        status = todo.pop()
        for rule in transitions.values():
            if status in rule.sources and rule.target and rule.target not in seen:
                seen.add(rule.target)
                todo.append(rule.target)
    return seen


def dead_ends(transitions: dict, statuses: dict, start: str) -> list:
    """The open statuses a ticket can reach from ``start`` but never leave for a closed one
    (a loop that never closes), in the order statuses are declared."""
    reached = reachable(transitions, start)
    return [s for s, v in statuses.items() if s in reached and v.open
            and not any(not statuses[t].open for t in reachable(transitions, s))]
