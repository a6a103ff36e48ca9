"""The package's shape is part of what it teaches: a handful of modules, one concept each, imports flowing one
way (audio -> presets/config -> loading -> encoder/decoder -> ASRModel -> counting), the command-line layer on
top and used only by the exercises."""

import ast
from pathlib import Path

from conftest import ROOT

SRC = ROOT / "src"
MAX_MODULES = 10


def src_imports(path: Path) -> set[str]:
    """Every ``src.<module>`` a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("src."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("src.")}
    return found


def graph() -> dict[str, set[str]]:
    return {path.stem: src_imports(path) for path in SRC.glob("*.py") if path.stem != "__init__"}


def test_src_has_at_most_ten_modules():
    modules = sorted(graph())
    assert len(modules) <= MAX_MODULES, f"{len(modules)} modules in src/: {modules}"


def test_src_imports_have_no_cycle():
    edges = graph()
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", "import cycle: " + " -> ".join(trail + [module])
        state[module] = "open"
        for imported in sorted(edges.get(module, ())):
            visit(imported, trail + [module])
        state[module] = "done"

    for module in sorted(edges):
        visit(module, [])


def test_the_command_line_layer_is_used_only_by_the_exercises():
    users = sorted(module for module, imports in graph().items() if "cli" in imports)
    assert users == [], f"src modules importing src/cli.py: {users}"


def test_nothing_in_src_exists_only_for_the_benchmarks():
    for path in SRC.glob("*.py"):
        text = path.read_text()
        for marker in ("gc.freeze", "[bench]", "benchmark"):
            assert marker not in text, f"{path.name} mentions {marker!r}"
