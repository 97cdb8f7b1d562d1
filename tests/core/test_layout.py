"""The package layout's rules, read from the code: at most 25 modules side by side in any folder of
webapp/, no files named after the change that added them (forms_*, cli_*, *_openapi.py), and no
import cycle among the project's modules (imports at module level; an import inside a function
runs when it is called, after every module has loaded)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("webapp", "tasks")
MAX_SIDE_BY_SIDE = 25


def _modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the project's packages (a package by its __init__)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _module_level_imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports when it loads (its top level, `if`/`try` blocks included)."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, ast.Import):
                out.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in modules:
                        out.add(sub)
                    elif target in modules:
                        out.add(target)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "finalbody", []))

    visit(ast.parse(path.read_text(), str(path)).body)
    out.discard(name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return groups


def test_no_folder_of_webapp_holds_more_than_25_modules():
    crowded = {str(folder.relative_to(ROOT)): count for folder in [ROOT / "webapp", *(ROOT / "webapp").rglob("*/")]
               if folder.is_dir() and (count := len(list(folder.glob("*.py")))) > MAX_SIDE_BY_SIDE}
    assert not crowded, f"folders with more than {MAX_SIDE_BY_SIDE} modules side by side: {crowded}"


def test_no_module_is_named_after_the_change_that_added_it():
    named = [str(p.relative_to(ROOT)) for p in (ROOT / "webapp").rglob("*.py")
             if p.name.startswith(("forms_", "cli_")) or p.name.endswith("_openapi.py")]
    assert not named


def test_no_import_cycle_among_the_project_modules():
    modules = _modules()
    graph = {name: _module_level_imports(path, name, modules) for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
