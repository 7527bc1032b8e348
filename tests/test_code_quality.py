"""Lint, format and type checks run with the suite, so CI fails on them like on any test."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_the_code_passes(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- No module reaches into another's underscore names (conventions.md, "Lessons") ----------

APP = ROOT / "app"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_app_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return dotted.split(".")[0] == "app" and (
        path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
    )


def _dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)) is not None:
        return f"{base}.{node.attr}"
    return None


def underscore_imports(source: str, *, module: str, is_package: bool = False) -> list[str]:
    """Where `source`, the text of the app module `module`, takes an underscore name from
    another app module: `from app.x import _y`, or `x._y` on a module it imported."""
    tree = ast.parse(source)
    found: list[str] = []
    bound: dict[str, str] = {}  # local name -> the app module it names
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package `module` is in (or is)
                package = module.split(".")
                package = package if is_package else package[:-1]
                package = package[: len(package) - node.level + 1]
                source_module = ".".join([*package, *([node.module] if node.module else [])])
            else:
                source_module = node.module or ""
            if source_module.split(".")[0] != "app":
                continue
            for alias in node.names:
                if _is_private(alias.name):
                    found.append(f"line {node.lineno}: from {source_module} import {alias.name}")
                elif _is_app_module(f"{source_module}.{alias.name}"):
                    bound[alias.asname or alias.name] = f"{source_module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "app":
                    continue
                if any(_is_private(part) for part in alias.name.split(".")):
                    found.append(f"line {node.lineno}: import {alias.name}")
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    bound["app"] = "app"
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
            continue
        dotted = _dotted(node.value)
        if dotted is None:
            continue
        name, _, rest = dotted.partition(".")
        if name not in bound:
            continue
        target = bound[name] + (f".{rest}" if rest else "")
        if target != module and _is_app_module(target):
            found.append(f"line {node.lineno}: {dotted}.{node.attr}")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from app.xml.reading import _hidden",
        "from app.xml.reading import children_of, _hidden as hidden",
        "import app.xml.hardened as hardened\nhardened._parsers",
        "from app.xml import hardened\nhardened._parsers.parser",
        "import app.xml.hardened\napp.xml.hardened._parsers",
        "from . import _hidden",
        "def late():\n    from app.xml.hardened import _parsers",
    ],
)
def test_the_underscore_check_finds_each_form(source: str) -> None:
    assert underscore_imports(source, module="app.xml.ggop") != []


@pytest.mark.parametrize(
    "source",
    [
        "from app.xml.reading import Element\nElement(1, '/')._replace(path='/a')",
        "from lxml import etree\netree._ElementTree",
        "from app import __version__",
        "import app.xml.hardened as hardened\nhardened.parse_xml",
    ],
)
def test_the_underscore_check_allows_public_names(source: str) -> None:
    assert underscore_imports(source, module="app.xml.ggop") == []


def test_no_module_imports_another_modules_underscore_names() -> None:
    """A module's underscore names are its own: what another module needs is public (named
    without `_` and listed in `__all__`), so a module's inside can change on its own."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        source = path.read_text(encoding="utf-8")
        for where in underscore_imports(source, module=module, is_package=is_package):
            found.append(f"{path.relative_to(ROOT)} {where}")
    assert found == []


# --- Imports point down only: api → services → {repositories, xml, delivery} → domain -------
# (architecture.md, "Layers and folders"). A layer may use the top-level modules (orm, db,
# config, clock, ...) but not through them reach a layer above it: the check follows imports
# through every module of `app`, so `app.delivery` importing `app.state` (which imports
# `app.services`) fails like importing `app.services` itself.

LAYER_MAY_NOT_REACH = {
    "domain": {"repositories", "xml", "delivery", "services", "api"},
    "repositories": {"xml", "delivery", "services", "api"},
    "xml": {"repositories", "delivery", "services", "api"},
    "delivery": {"services", "api"},
    "services": {"api"},
}


def _part_of_app(module: str) -> str:
    """The top-level part of `app` a module belongs to: `app.delivery.periodic` -> `delivery`,
    `app.orm` -> `orm`, `app` -> `app`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"


def imported_parts(source: str, *, module: str, is_package: bool = False) -> set[str]:
    """The parts of `app` that `source`, the text of the app module `module`, imports,
    anywhere in the module (also inside functions and `if TYPE_CHECKING:`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")
                package = package if is_package else package[:-1]
                package = package[: len(package) - node.level + 1]
                source_module = ".".join([*package, *([node.module] if node.module else [])])
            else:
                source_module = node.module or ""
            if source_module.split(".")[0] != "app":
                continue
            if source_module == "app":  # from app import orm, services, __version__
                for alias in node.names:
                    named = f"app.{alias.name}"
                    found.add(_part_of_app(named) if _is_app_module(named) else "app")
            else:
                found.add(_part_of_app(source_module))
        elif isinstance(node, ast.Import):
            found.update(
                _part_of_app(alias.name)
                for alias in node.names
                if alias.name.split(".")[0] == "app"
            )
    return found


def layer_violations(sources: dict[str, tuple[str, bool]]) -> list[str]:
    """`sources`: module name -> (text, is_package). Each import path by which a layer reaches
    a layer it must not, e.g. `delivery -> state -> services`."""
    graph: dict[str, set[str]] = {}
    for module, (source, is_package) in sources.items():
        part = _part_of_app(module)
        graph.setdefault(part, set()).update(
            imported_parts(source, module=module, is_package=is_package) - {part}
        )
    found = []
    for layer, forbidden in LAYER_MAY_NOT_REACH.items():
        paths = {layer: [layer]}
        todo = [layer]
        while todo:
            here = todo.pop()
            for there in sorted(graph.get(here, ())):
                if there not in paths:
                    paths[there] = [*paths[here], there]
                    todo.append(there)
        found += [" -> ".join(paths[part]) for part in sorted(forbidden & paths.keys())]
    return found


def app_sources() -> dict[str, tuple[str, bool]]:
    sources = {}
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        sources[module] = (path.read_text(encoding="utf-8"), is_package)
    return sources


def test_imports_point_down_the_layers() -> None:
    assert layer_violations(app_sources()) == []


@pytest.mark.parametrize(
    ("module", "source", "violation"),
    [
        ("app.delivery.job", "from app.services import audit", "delivery -> services"),
        ("app.delivery.job", "import app.services.audit", "delivery -> services"),
        ("app.delivery.job", "from app import services", "delivery -> services"),
        ("app.delivery.job", "from ..services.audit import record", "delivery -> services"),
        ("app.delivery.job", "def late():\n    from app.api import api_router", "delivery -> api"),
        ("app.delivery.job", "from app.state import AppState", "delivery -> state -> services"),
        ("app.domain.rule", "from app.xml import XmlRenderer", "domain -> xml"),
        ("app.repositories.x", "from app.delivery import periodic", "repositories -> delivery"),
        ("app.services.x", "from app.api.payloads import Problem", "services -> api"),
    ],
)
def test_the_layer_check_finds_an_import_up(module: str, source: str, violation: str) -> None:
    assert violation in layer_violations({**app_sources(), module: (source, False)})
