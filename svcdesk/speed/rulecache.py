"""The desk's rules, compiled once: kept in ``.git/svcdesk/rules.pickle`` (~1.5 ms to load
instead of ~25 ms to parse and check), and held in the command server's memory for every
desk it serves (its workers inherit them with the fork, and neither parse nor unpickle).

It is a cache like the index: anything stale, foreign or unreadable is rebuilt. (A pickle
runs code when loaded; the file sits in ``.git``, where anyone able to write it can already
set hooks that git runs.)
"""

import hashlib
import pickle
from pathlib import Path

from svcdesk.adapters import store

_HELD: dict = {}  # desk root -> (its rules.yaml bytes, the rules compiled from them)


def read(root: Path, cache: Path):
    """The desk's checked rules: held, else from ``cache`` when it was made from the same
    rules.yaml by the same code, else parsed and checked (and the cache written again)."""
    path = root / store.RULES
    data = store.rules_bytes(path)
    held = _HELD.get(str(root))
    if held is not None and held[0] == data:
        return held[1]
    key = _key(data)
    try:
        with open(cache, "rb") as f:
            if f.read(len(key)) == key:
                return pickle.load(f)
    except Exception:  # noqa: BLE001 - any unreadable cache is just rebuilt below
        pass
    rules = store.rules_from_text(data.decode("utf-8"), str(path))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        store.write_atomic(cache, key + pickle.dumps(rules, pickle.HIGHEST_PROTOCOL),
                           sync=False, sync_dir=False)
    except (OSError, pickle.PicklingError):
        pass
    return rules


def hold(root: Path):
    """Read and check the desk's rules, and keep them in this process: read() then returns
    them for as long as rules.yaml holds the same bytes. The server holds each desk it
    serves."""
    path = root / store.RULES
    data = path.read_bytes()
    rules = store.rules_from_text(data.decode("utf-8"), str(path))
    _HELD[str(root)] = (data, rules)
    return rules


def _key(data: bytes) -> bytes:
    """What compiled rules depend on: the text, and the code that compiled them (each
    module's size and time, so an upgrade or an edit of svcdesk itself never reads an old
    cache)."""
    digest = hashlib.sha256(data)
    package = Path(__file__).parents[1]
    for module in sorted(package.glob("*/*.py")):
        info = module.stat()
        digest.update(f"{module.relative_to(package)}:{info.st_size}:{info.st_mtime_ns}\n"
                      .encode())
    return b"svcdesk-rules:" + digest.hexdigest().encode() + b"\n"
