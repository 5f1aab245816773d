"""The speed machinery's answers at the adapters' seam (adapters.shortcuts): the command
server's watch, svcdesk's own step records, the trail of commits, the rules cache and the
roll-up of small packs. Each answer is one git would give, only sooner; where one is not
sure, it says so (None) and git is asked."""

from pathlib import Path

from svcdesk.adapters.shortcuts import Shortcuts
from svcdesk.adapters.state import State
from svcdesk.speed import rulecache, steps, watch


class Fast(Shortcuts):
    """The shortcuts of one desk."""

    def __init__(self, root: Path, state: State | None = None):
        self.root, self.state = root, state

    def token(self) -> str | None:
        return watch.token(self.root)

    def changed_since(self, token: str | None) -> set | None:
        return watch.changed_since(self.root, token) if token else None

    def stepped(self, since: str | None, head: str | None) -> set | None:
        return steps.stepped(self.state, since, head)

    def known_trees(self, head: str | None) -> dict:
        return steps.known_trees(self.state, head)

    def committed(self, parent: str | None, commit: str, written: dict,
                  folders: dict) -> dict:
        return steps.remember(self.state, parent, commit, written, folders)

    def landed(self) -> object:
        return steps.landed(self.state)

    def tidy(self, git) -> None:
        from svcdesk.speed import packs  # only a change needs it

        if not git.collect_garbage():
            packs.roll_up_if_due(git, self.state.repack_lock)

    def rules(self, root: Path):
        return rulecache.read(root, self.state.rules_cache)

    def commits(self, git, relpath: str, head: str | None, progress=None) -> list | None:
        from svcdesk.speed.trail import Trail

        return Trail(git, self.state.trail, progress).commits(relpath, head)

    def trail_size(self) -> int | None:
        from svcdesk.speed.trail import Trail

        return Trail(None, self.state.trail).size()

    def forget(self) -> None:
        from svcdesk.speed.trail import Trail

        Trail(None, self.state.trail).discard()
