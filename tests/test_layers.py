"""The import graph of svcdesk/: one package per layer, imports pointing down only, and the
speed machinery reached through its two seams alone (docs/design.md, The layers)."""

import ast
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "svcdesk"
# each layer may import its own and those listed (never one above it)
MAY_IMPORT = {
    "base": {"base"},
    "domain": {"domain", "base"},
    "adapters": {"adapters", "domain", "base"},
    "app": {"app", "adapters", "domain", "base"},
    "cli": {"cli", "app", "base"},
    "launch": {"cli", "base"},  # svcdesk/launch.py, the console script
}
TOP = {"__init__": set(), "__main__": {"launch"}, "launch": MAY_IMPORT["launch"]}
# the only modules that may import svcdesk.speed: where a command runs, and the index's
# (and the commits') questions to a cache
SEAMS = {"launch", "adapters.shortcuts"}
IO_LIBRARIES = {"click", "git", "jinja2", "yaml", "sqlite3", "tabulate", "subprocess",
                "smtplib", "socket", "ssl", "email", "urllib", "http", "fcntl", "shutil"}
RUNS_PROCESSES = {"adapters.repo"}  # every git command goes through adapters/repo.py


def imports(path: Path) -> set:
    """The modules ``path`` imports (``from svcdesk import x`` counts as svcdesk.x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "svcdesk":
                found |= {f"svcdesk.{alias.name}" for alias in node.names}
    return found


def modules(package: Path = PACKAGE):
    """(dotted name below svcdesk, path) of every module."""
    for path in sorted(package.rglob("*.py")):
        yield path.relative_to(package).with_suffix("").as_posix().replace("/", "."), path


def layer_of(name: str) -> str | None:
    """The layer a module belongs to (None: it belongs to none)."""
    head = name.split(".")[0]
    if name in TOP:
        return name
    if head in MAY_IMPORT or head == "speed":
        return head
    return None


def violations(package: Path = PACKAGE) -> list:
    """Every module of ``package`` that is in no layer or imports against the arrows."""
    out = []
    for name, path in modules(package):
        layer = layer_of(name)
        if layer is None:
            out.append(f"{name} is in no layer (base, domain, adapters, app, cli, speed)")
            continue
        for target in imports(path):
            if not target.startswith("svcdesk."):
                continue
            other = target.split(".")[1]
            if other == "speed":
                if layer != "speed" and name not in SEAMS:
                    out.append(f"{name} imports {target}: speed/ is reached only at its "
                               f"seams ({', '.join(sorted(SEAMS))})")
                continue
            if layer == "speed" or other == "__version__":
                continue  # the optional machinery sits beside the layers, using them
            allowed = TOP.get(name, MAY_IMPORT.get(layer, set()))
            if other not in allowed:
                out.append(f"{name} ({layer}) imports {target}")
    return out


def test_every_module_is_in_a_layer_and_imports_point_down_only():
    assert violations() == []


@pytest.mark.parametrize("where, line, complaint", [
    ("domain/sla.py", "from svcdesk.adapters import store", "domain.sla (domain) imports"),
    ("base/model.py", "from svcdesk.domain import rules", "base.model (base) imports"),
    ("cli/show.py", "from svcdesk.adapters.index import Index", "cli.show (cli) imports"),
    ("app/work.py", "from svcdesk.cli import main", "app.work (app) imports"),
    ("app/work.py", "from svcdesk.speed import watch", "speed/ is reached only"),
    ("cli/show.py", "from svcdesk import speed", "speed/ is reached only"),
    ("helpers.py", "import os", "helpers is in no layer"),
])
def test_a_wrong_import_is_caught(tmp_path, where, line, complaint):
    target = tmp_path / "svcdesk" / where
    target.parent.mkdir(parents=True)
    target.write_text(line + "\n", encoding="utf-8")
    found = violations(tmp_path / "svcdesk")
    assert len(found) == 1 and complaint in found[0], found


def test_base_imports_nothing_of_svcdesk_but_itself():
    for name, path in modules():
        if name.startswith("base."):
            assert not {t for t in imports(path) if t.startswith("svcdesk")
                        and not t.startswith("svcdesk.base")}, name


def test_the_domain_touches_no_disk_git_template_network_or_terminal():
    for name, path in modules():
        if name.startswith("domain."):
            bad = {t.split(".")[0] for t in imports(path)} & IO_LIBRARIES
            assert not bad, f"svcdesk/{name.replace('.', '/')}.py imports {bad}"


def test_only_the_repo_adapter_starts_processes():
    for name, path in modules():
        if "subprocess" in imports(path):
            assert name in RUNS_PROCESSES, f"{name} starts processes; git goes through " \
                                           "adapters/repo.py"


def test_one_module_names_the_paths_under_the_state_folder():
    """adapters/state.py owns .git/svcdesk: no other module spells a file in it."""
    names = ('"index.sqlite"', '"trail.sqlite"', '"rules.pickle"', '"steps.json"',
             '"head-trees.json"', '"journal"', '"repack.lock"', '"commit-graph-head"')
    for name, path in modules():
        if name == "adapters.state":
            continue
        text = path.read_text(encoding="utf-8")
        assert not [n for n in names if n in text], name


@pytest.mark.parametrize("module", ["launch.py", "speed/client.py"])
def test_the_console_script_imports_only_built_in_modules_before_handing_over(module):
    """launch.py and speed/client.py run before every command: anything they import, every
    command pays (the rest of svcdesk, click and PyYAML load only when no server takes the
    command)."""
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [
                alias.name for alias in node.names]
            for name in names:
                if name in ("svcdesk", "svcdesk.cli"):  # the fallback, only to run here
                    continue
                if name in ("svcdesk.base.settings", "svcdesk.speed.client"):
                    continue  # built-ins only, checked here too
                origin = find_spec(name).origin or ""
                assert name in ("os", "sys") or name in sys.builtin_module_names or (
                    origin.endswith(".so")), f"{module} imports {name}, a Python module"
    settings = ast.parse((PACKAGE / "base" / "settings.py").read_text(encoding="utf-8"))
    assert {a.name for n in ast.walk(settings) if isinstance(n, ast.Import)
            for a in n.names} <= {"os"}


def test_the_desk_is_found_and_git_started_before_the_heavy_imports():
    """The command line starts git on the index's check (app.opening.prefetch) while
    Python imports the rest: what that module imports is paid before git starts."""
    import subprocess

    probe = ("import sys, svcdesk.app.opening; "
             "print(' '.join(m for m in ('yaml', 'sqlite3', 'jinja2', 'svcdesk.adapters.store',"
             " 'svcdesk.speed.rulecache') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
