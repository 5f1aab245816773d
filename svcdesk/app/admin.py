"""Looking after the desk: making one (with a sample history), the index, the agents' loads,
a ticket's audit trail from git, and what a command leaves to attend to."""

from pathlib import Path
from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.adapters.change import trailers_for
from svcdesk.adapters.repo import Git, Identity, attributes_added
from svcdesk.adapters.state import State
from svcdesk.app import intake
from svcdesk.app.desk import Actor, Desk
from svcdesk.base import model
from svcdesk.base.errors import DeskExistsError, GitError, UsageError
from svcdesk.base.identity import TicketRef
from svcdesk.domain import history

GITIGNORE = """\
# svcdesk: an interrupted atomic write leaves one of these; svcdesk cleans them up
.*.svcdesk-tmp
"""


class AgentLoad(NamedTuple):
    """An agent with their open tickets today."""

    agent: object  # rules.Agent
    open: int
    off_today: bool


def init(folder: Path, sample: bool = False, agent: str | None = None) -> Desk:
    """Make ``folder`` a desk: rules.yaml, templates/, tickets/, .gitignore, first commit."""
    folder = folder.expanduser().resolve()
    if (folder / store.RULES).exists():
        raise DeskExistsError(f"{folder} is already a desk (it has {store.RULES}); "
                              "nothing was changed")
    if folder.exists() and not folder.is_dir():
        raise DeskExistsError(f"{folder} exists and is not a folder")
    if (folder / "templates").exists() or (folder / store.TICKETS).exists():
        raise DeskExistsError(f"{folder} already has templates/ or tickets/; "
                              "init will not overwrite them")
    folder.mkdir(parents=True, exist_ok=True)
    git = Git(folder)
    git.init()
    defaults = store.DEFAULTS
    files = {store.RULES: (defaults / "rules.yaml").read_bytes(),
             f"{store.TICKETS}/.gitkeep": b""}
    templates = defaults / "templates"
    for path in sorted(templates.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files["templates/" + path.relative_to(templates).as_posix()] = path.read_bytes()
    attributes = folder / ".gitattributes"
    existing = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    added = attributes_added(existing)
    if added is not None:
        files[".gitattributes"] = added.encode()
    gitignore = folder / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if ".svcdesk-tmp" not in existing:
        files[".gitignore"] = (existing + ("\n" if existing and not existing.endswith("\n")
                                           else "") + GITIGNORE).encode()
    # the rules.yaml the first commit writes
    rules = store.rules_from_text(files[store.RULES].decode("utf-8"),
                                  str(defaults / "rules.yaml"))
    desk = Desk(folder, agent, "init", rules=rules)
    try:
        actor = desk.actor()
    except UsageError:
        actor = Actor("svcdesk", Identity("svcdesk", "svcdesk@localhost"))
    desk.act_as(actor)
    now = desk.now()
    with desk.change() as change:
        for path, data in files.items():
            change.write(path, data)
        change.commit(f"Make the desk {desk.rules.name}",
                      "rules.yaml, templates/ and tickets/ from the svcdesk defaults.",
                      trailers_for(None, "init"), actor.identity, now)
    desk = Desk(folder, agent, "init")
    desk.act_as(actor)
    if sample:
        fill_sample(desk)
    return desk


def fill_sample(desk: Desk, count: int = 40) -> int:
    """Add ``count`` sample tickets with histories, the customers, units and spare parts
    they concern, one commit per step."""
    from svcdesk.adapters import records as files
    from svcdesk.domain import sample

    rules = desk.rules
    settled: dict = {}
    commits = []
    for items, event in sample.tickets(rules, desk.now(), count):
        written, number = {}, None
        for kind, record in items:
            if kind == "ticket":
                # as svcdesk would have kept it: the sla: block in step with the history
                number = record.number
                events = settled.get(number, ()) + (record.events[-1],)
                record = history.settle(rules, model.Ticket(model.ordered_fields(
                    rules.schema, model.replay(events)), events))
                settled[number] = record.events
                written[store.ticket_relpath(number)] = store.encode_ticket(record)
            else:
                written[files.relpath(kind, record.fields["id"])] = store.encode_ticket(record)
        first = items[0][1]
        agent = rules.agents.get(event.by)
        who = Identity(agent.name, agent.email) if agent else desk.actor().identity
        subject = f"{number or items[0][0] + ' ' + first.fields['id']}: {event.action}"
        if event.action == "create" and number:
            subject += f" {first.fields['type']} ticket: {first.fields.get('title', '')}"
        elif event.action == "create":
            subject += f" {first.fields.get('name') or first.fields.get('model') or ''}"
        elif event.note:
            subject += ": " + event.note.splitlines()[0]
        commits.append((written, subject.rstrip() + "\n\n" + "".join(
            f"{k}: {v}\n" for k, v in trailers_for(number, event.action).items()),
            who, event.at))
    last = max(at for *_, at in commits)
    from svcdesk.app.knowledge import KB, article_bytes

    articles = {f"{KB}/{name}.md": article_bytes(meta, body)
                for name, meta, body in sample.ARTICLES}
    manager = rules.agents.get(rules.manager) if rules.manager else None
    commits.append((articles, "kb: the knowledge base's first articles\n\n"
                    + "".join(f"{k}: {v}\n" for k, v in trailers_for(None, "kb-new").items()),
                    Identity(manager.name, manager.email) if manager
                    else desk.actor().identity, last))
    with desk.change() as change:
        change.import_commits(commits)
    return len(settled)


def index_status(desk: Desk) -> dict:
    """What the index holds, brought up to date, and the trail of commits beside it."""
    info = desk.index.status()
    per = (lambda n: round(n / info.tickets)) if info.tickets else (lambda n: None)
    return {"path": info.path, "format": info.format, "tickets": info.tickets,
            "problems": info.problems, "size_bytes": info.size, "tree": info.tree,
            "parsed_now": desk.index.changed, "trail_commits": desk.shortcuts.trail_size(),
            "ticket_files_bytes": info.data, "bytes_per_ticket": per(info.size),
            "file_bytes_per_ticket": per(info.data),
            "size_of_data": round(info.size / info.data, 2) if info.data else None}


def rebuild_index(desk: Desk) -> int:
    """Build the index again from every ticket file; return how many tickets it holds.
    The trail of commits is thrown away too (the next log reads the history again)."""
    desk.shortcuts.forget()
    return desk.index.rebuild()


LOOK_AHEAD_DAYS = 31  # rules check: how far ahead a calendar must know its holidays


def look_ahead(desk: Desk, days: int = LOOK_AHEAD_DAYS) -> None:
    """Count the next ``days`` days on every calendar of the desk, so that a year without
    official holiday data is warned about before a due time falls in it (the warnings are
    said at the end of the command, see desk.leftovers)."""
    from datetime import timedelta

    today = desk.now().date()
    for calendar in desk.rules.service.calendars.values():
        for n in range(days + 1):
            calendar.spans(today + timedelta(days=n))


def agents(desk: Desk) -> list:
    """Each agent with their open load, capacity, skills and whether they are off today."""
    load, today = intake.open_load(desk), desk.now().date()
    return [AgentLoad(a, load.get(a.key, 0), a.off.covers(today))
            for a in desk.rules.agents.values()]


def log(desk: Desk, ref: TicketRef) -> list:
    """The git audit trail of one ticket, newest first."""
    relpath = desk.locate(ref)
    head, _ = desk.git.head()
    commits = desk.shortcuts.commits(desk.git, relpath, head, desk.progress)
    if commits is not None:
        return desk.git.describe(commits)
    _refresh_commit_graph(desk.git, desk.state, head)
    return desk.git.log(relpath)


def _refresh_commit_graph(git: Git, state: State, head: str | None) -> None:
    """Keep changed-path Bloom filters near HEAD so `git log -- FILE` stays fast."""
    mark = state.commit_graph_mark
    if head is None:
        return
    try:
        last = mark.read_text().strip() or None
    except FileNotFoundError:
        last = None
    if last == head or (last and git.commits_since(last, head) < 64):
        return
    try:
        git.write_commit_graph()
        state.make_caches()
        store.write_atomic(mark, head.encode())
    except (GitError, OSError):
        pass  # only a speed-up (a desk that cannot be written keeps git's plain walk)
