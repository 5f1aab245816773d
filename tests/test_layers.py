"""The import graph: cli -> desk -> storage -> domain, never back up."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "svcdesk"
DOMAIN = {"model", "fields", "identity", "rules", "ruleschema", "query", "sample", "clock",
          "errors", "metrics", "classify", "assign", "workflow", "worktime", "sla", "report",
          "charts"}
STORAGE = {"store", "gitlog", "lock", "index", "discovery", "notices", "outbox", "watch",
           "templating", "trail"}
DESK = {"desk", "change"}
LAYER = {**{m: 0 for m in DOMAIN}, **{m: 1 for m in STORAGE}, **{m: 2 for m in DESK}}
IO_LIBRARIES = {"click", "git", "jinja2", "yaml", "sqlite3", "tabulate", "subprocess"}


def imports(path: Path) -> set:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "svcdesk":
                found |= {f"svcdesk.{alias.name}" for alias in node.names}
    return found


def modules():
    for path in PACKAGE.rglob("*.py"):
        name = path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        yield name, path


def test_every_module_has_a_layer():
    for name, _ in modules():
        assert name.split(".")[0] in LAYER or name.startswith("cli") or name in (
            "__init__", "__main__", "client"), f"{name} is in no layer: add it to tests/test_layers.py"


def test_imports_point_down_only():
    for name, path in modules():
        if name.startswith("cli") or name in ("__init__", "__main__", "client"):
            continue
        mine = LAYER[name]
        for target in imports(path):
            if target.startswith("svcdesk.cli"):
                raise AssertionError(f"{name} imports the CLI ({target})")
            if target.startswith("svcdesk."):
                other = target.split(".")[1]
                assert LAYER.get(other, -1) <= mine, f"{name} (layer {mine}) imports {target}"


def test_domain_modules_touch_no_disk_git_template_or_terminal():
    for name, path in modules():
        if name in DOMAIN:
            bad = {t.split(".")[0] for t in imports(path)} & IO_LIBRARIES
            assert not bad, f"svcdesk/{name}.py imports {bad}"


def test_only_gitlog_runs_git():
    for name, path in modules():
        if "subprocess" in imports(path):
            assert name == "gitlog", f"{name} starts processes; git goes through gitlog.py"


def test_the_console_script_imports_only_built_in_modules_before_handing_over():
    """svcdesk/client.py runs before every command: anything it imports, every command pays
    (the rest of svcdesk, click and PyYAML load only when no server takes the command)."""
    import sys
    from importlib.util import find_spec

    tree = ast.parse((PACKAGE / "client.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [
                alias.name for alias in node.names]
            for name in names:
                if name == "svcdesk.cli":  # the fallback, imported only to run here
                    continue
                origin = find_spec(name).origin or ""
                assert name in ("os", "sys") or name in sys.builtin_module_names or (
                    origin.endswith(".so")), f"client.py imports {name}, a Python module"
