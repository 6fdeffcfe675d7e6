"""Nothing in notifier imports upward: the rules each package's docstring states hold.

A package (or a loose module) states its rules in its docstring, in paragraphs
the test reads:

    Never imports: ``notifier.http``, ``pyramid``.
    Imported only by: ``notifier.cli`` (and the tests).

``name`` forbids that module and everything under it; ``name.*`` forbids only
what is under it (``notifier.listeners.*``: the concrete listeners, not the
contract).  A package's rules cover its subpackages, and they hold for
everything a module loads, directly or through other notifier modules:
importing ``a.b.c`` loads ``a.b`` too.  Imports under ``if TYPE_CHECKING:``
load nothing and do not count; imports inside functions do.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "notifier"

#: The project's rules (DESIGN.md, issue 13): a package's docstring may add to
#: them, never drop one.  ``notifier.push`` is held to them as soon as it exists.
REQUIRED = {
    "notifier.storage": {
        "notifier.http",
        "notifier.delivery",
        "notifier.listeners",
        "notifier.cli",
    },
    "notifier.delivery": {"notifier.http", "notifier.cli", "notifier.listeners.*"},
    "notifier.worker": {"notifier.http", "pyramid"},
    "notifier.queue": {"notifier.http", "pyramid"},
    "notifier.push": {"notifier.http", "pyramid"},
}
ONLY_IMPORTED_BY = {
    "notifier.cli": {"notifier.cli"},
    "notifier.dev": {"notifier.cli", "notifier.dev"},
}

#: The top-level package is left out of every chain: its main() and includeme()
#: import the app inside the functions, which this walk (it counts imports in
#: functions too) would read as every ``import notifier.x`` loading Pyramid.
#: tests/test_imports.py checks that importing the worker really loads none.
EXEMPT_ROOT = "notifier"

#: Known violations, each with who removes it.  The test fails when one is
#: gone, so the list only shrinks.
PENDING: set[tuple[str, str]] = set()

NAME = re.compile(r"``([\w.*]+)``")


@dataclass
class Module:
    name: str
    path: Path
    docstring: str
    imports: dict[str, int] = field(default_factory=dict)  # imported name -> line


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except what sits under ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and is_type_checking(child):
            yield from (node for each in child.orelse for node in runtime_nodes(each))
            continue
        yield child
        yield from runtime_nodes(child)


def imported_names(module: str, is_package: bool, tree: ast.AST) -> dict[str, int]:
    """Dotted names a module imports, ``from a import b`` giving ``a`` and ``a.b``."""
    names: dict[str, int] = {}
    for node in runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.setdefault(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join(parts + ([base] if base else []))
            names.setdefault(base, node.lineno)
            for alias in node.names:
                names.setdefault(f"{base}.{alias.name}", node.lineno)
    return names


def load_modules() -> dict[str, Module]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        docstring = ast.get_docstring(tree) or ""
        imports = imported_names(name, path.name == "__init__.py", tree)
        modules[name] = Module(name, path, docstring, imports)
    return modules


def rule(docstring: str, heading: str) -> set[str]:
    """The names of the paragraph that starts with ``heading``."""
    for paragraph in docstring.split("\n\n"):
        if paragraph.startswith(heading):
            return set(NAME.findall(paragraph))
    return set()


def matches(name: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return name == pattern or name.startswith(pattern + ".")


def loads(name: str, modules: dict[str, Module]) -> list[str]:
    """What importing ``name`` loads first-hand: its packages, then itself.

    A third-party name stands for its distribution's top package (``pyramid``).
    """
    parts = name.split(".")
    if parts[0] != "notifier":
        return [parts[0]]
    prefixes = [".".join(parts[: n + 1]) for n in range(len(parts))]
    return [each for each in prefixes if each in modules and each != EXEMPT_ROOT]


def rules_of(name: str, modules: dict[str, Module], heading: str) -> dict[str, set[str]]:
    """The rules under ``heading`` that hold for module ``name``, by the module stating each."""
    found = {}
    for owner in loads(name, modules):
        stated = rule(modules[owner].docstring, heading) if owner in modules else set()
        if stated:
            found[owner] = stated
    return found


def forbidden_loads(
    start: str, forbidden: set[str], modules: dict[str, Module]
) -> dict[str, list[str]]:
    """Each forbidden module that importing ``start`` loads, with the shortest chain to it."""
    found: dict[str, list[str]] = {}
    seen = {start}
    queue = [[start]]
    while queue:
        chain = queue.pop(0)
        for imported in modules[chain[-1]].imports:
            loaded = [each for each in loads(imported, modules) if each not in seen]
            seen.update(loaded)
            bad = [each for each in loaded if any(matches(each, p) for p in forbidden)]
            if bad:
                found.setdefault(bad[-1], [*chain, bad[-1]])
                continue
            queue.extend([*chain, each] for each in loaded if each in modules)
    return found


def violations(modules: dict[str, Module]) -> dict[tuple[str, str], str]:
    """(package, forbidden module) -> the import chain, for every broken "Never imports"."""
    found: dict[tuple[str, str], str] = {}
    for name in modules:
        for owner, forbidden in rules_of(name, modules, "Never imports:").items():
            for target, chain in forbidden_loads(name, forbidden, modules).items():
                imports = modules[chain[0]].imports
                line = next(
                    (n for each, n in imports.items() if chain[1] in loads(each, modules)), 0
                )
                text = f"{modules[name].path.relative_to(ROOT)}:{line}: " + " -> ".join(chain)
                if (owner, target) not in found or len(text) < len(found[owner, target]):
                    found[owner, target] = text
    return found


def unwanted_importers(modules: dict[str, Module]) -> list[str]:
    """Imports of a package by a module that its "Imported only by" does not name."""
    found = []
    for name, module in modules.items():
        for imported, line in module.imports.items():
            for loaded in loads(imported, modules):
                for owner, allowed in rules_of(loaded, modules, "Imported only by:").items():
                    if not any(matches(name, each) for each in allowed):
                        found.append(f"{module.path.relative_to(ROOT)}:{line}: {name} -> {owner}")
    return sorted(set(found))


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return load_modules()


def test_every_package_says_what_it_owns_and_what_it_may_import(modules):
    silent = []
    for name, module in modules.items():
        if module.path.name != "__init__.py":
            continue
        if not module.docstring:
            silent.append(f"{name}: no docstring")
        elif name.count(".") == 1 and not (
            rule(module.docstring, "Never imports:") or rule(module.docstring, "Imported only by:")
        ):
            silent.append(f"{name}: no 'Never imports:' or 'Imported only by:' paragraph")
    assert silent == []


def test_the_docstrings_keep_the_project_rules(modules):
    dropped = []
    for owner, required in REQUIRED.items():
        if owner in modules:
            missing = required - rule(modules[owner].docstring, "Never imports:")
            if missing:
                dropped.append(f"{owner} no longer says it never imports {sorted(missing)}")
    for owner, allowed in ONLY_IMPORTED_BY.items():
        stated = rule(modules[owner].docstring, "Imported only by:")
        if not stated or not stated <= allowed:
            dropped.append(f"{owner} should be imported only by {sorted(allowed)}, says {stated}")
    assert dropped == []


def test_nothing_imports_what_a_docstring_forbids(modules):
    found = violations(modules)
    new = {key: chain for key, chain in found.items() if key not in PENDING}
    assert new == {}, "\n".join(new.values())
    fixed = PENDING - set(found)
    assert fixed == set(), "fixed, remove from PENDING: " + repr(sorted(fixed))


def test_only_the_named_packages_import_cli_and_dev(modules):
    assert unwanted_importers(modules) == []


def fake(**imports: list[str]) -> dict[str, Module]:
    """A module graph for checking the checker: name -> what it imports."""
    docs = {
        "notifier.low": "Low.\n\nNever imports: ``notifier.high``, ``pyramid``.",
        "notifier.top": "Top.\n\nImported only by: ``notifier.top``.",
    }
    return {
        name: Module(
            name, ROOT / "notifier" / f"{name}.py", docs.get(name, ""), dict.fromkeys(names, 1)
        )
        for name, names in imports.items()
    }


def test_the_checker_follows_chains_and_reads_the_rules():
    graph = fake(
        **{
            "notifier": ["pyramid.config"],  # the exempt root
            "notifier.low": ["notifier.low.a"],
            "notifier.low.a": ["notifier.mid", "typing"],
            "notifier.mid": ["notifier.high.views.x"],
            "notifier.high": [],
            "notifier.high.views": [],
            "notifier.top": [],
            "notifier.other": ["notifier.top"],
        }
    )
    found = violations(graph)
    assert set(found) == {("notifier.low", "notifier.high.views")}
    assert found["notifier.low", "notifier.high.views"].endswith(
        "notifier.low.a -> notifier.mid -> notifier.high.views"
    )
    assert unwanted_importers(graph) == [
        "notifier/notifier.other.py:1: notifier.other -> notifier.top"
    ]
    assert matches("notifier.listeners.redis", "notifier.listeners.*")
    assert not matches("notifier.listeners", "notifier.listeners.*")
    assert not matches("pyramid_mailer", "pyramid")


def test_importing_the_worker_and_the_queue_loads_no_pyramid():
    code = (
        "import sys, notifier.worker, notifier.queue.protocol, notifier.retry\n"
        "bad = ('pyramid', 'notifier.http')\n"
        "loaded = sorted(m for m in sys.modules if m in bad or m.startswith(bad))\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
