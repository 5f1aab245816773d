"""The ticket workflow: a transition table from rules.yaml, enforced on every change."""

from typing import NamedTuple

from svcdesk.base.errors import WorkflowError
from svcdesk.base.model import get_path

# The actions that move a ticket, one command each.
ACTIONS = ("assign", "start", "wait", "resume", "resolve", "close", "reopen", "escalate")


class Transition(NamedTuple):
    """What one action may do: from which statuses, to which, and what it needs."""

    action: str
    sources: tuple
    target: str | None  # None: the status stays
    requires: tuple = ()


def check(transitions: dict, statuses: dict, number: str, status: str, action: str,
          after: dict, note: str | None) -> str:
    """Return the status ``action`` leads to from ``status``; raise WorkflowError, naming
    what is wrong and what is allowed, when the table does not allow it."""
    rule = transitions.get(action)
    if rule is None:
        raise WorkflowError(f"the workflow in rules.yaml has no {action!r} transition")
    if status not in rule.sources:
        label = statuses[status].label if status in statuses else status
        allowed = [s for s in rule.sources if s in statuses]
        raise WorkflowError(f"{number} is {status} ({label}); {action} is allowed only from "
                            + ", ".join(allowed))
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

