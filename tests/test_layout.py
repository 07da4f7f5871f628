"""The floor plan: every import points down the stages, no two modules import each other in a
circle, and the package face exports exactly its public names.

Imports are read from the source with :mod:`ast` — at module level, inside functions, under
``TYPE_CHECKING``, relative or absolute, and ``importlib.import_module("chesseval....")`` with a
literal name — so an import hidden in a function counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import chesseval

PACKAGE = Path(chesseval.__file__).resolve().parent

# The stages, lowest first (also drawn in the README's layout section). A module may import modules
# of its own stage and of lower ranks; two different stages of the same rank may not import each
# other. The package face (chesseval/__init__.py) and ``python -m chesseval`` sit on top.
RANKS: dict[str, int] = {
    "chesseval.errors": 0,
    "chesseval.version": 0,
    "chesseval.data": 0,
    "chesseval.core": 1,
    "chesseval.engine": 2,
    "chesseval.lichessdb": 2,
    "chesseval.providers": 3,
    "chesseval.analysis": 4,
    "chesseval.mining": 4,
    "chesseval.api": 5,
    "chesseval.cli": 6,
    "chesseval": 7,
    "chesseval.__main__": 7,
}


def module_names() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["chesseval", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = module_names()


def _known(name: str) -> str | None:
    """The module ``name`` refers to (``a.b.c`` may name ``c`` inside module ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """The chesseval modules ``module`` imports anywhere in its source."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            # `from chesseval.engine import check` imports the module chesseval.engine.check; a name
            # that is not a module comes from `source` itself.
            for alias in node.names:
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source)
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name == "import_module" and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    targets = {_known(n) for n in found if n == "chesseval" or n.startswith("chesseval.")}
    # A submodule naming its own package (`chesseval.core.x` -> `chesseval.core`) is not an edge,
    # except the package face: `from chesseval import __version__` is an upward import.
    return {t for t in targets if t is not None and t != module and (t == "chesseval" or not module.startswith(f"{t}."))}


def stage(module: str) -> str:
    best = ""
    for name in RANKS:
        if (module == name or module.startswith(f"{name}.")) and len(name) > len(best):
            best = name
    assert best, f"{module} belongs to no stage: add it to RANKS"
    return best


GRAPH = {m: imports_of(m) for m in MODULES}


def test_every_module_has_a_stage() -> None:
    for module in MODULES:
        stage(module)


def test_the_graph_sees_imports_inside_functions() -> None:
    # The runner's summary and the engine check's lazy import of its report are both real edges.
    assert "chesseval.core.results" in GRAPH["chesseval.core.runner"]
    assert "chesseval.engine.report" in GRAPH["chesseval.engine.check"]
    assert "chesseval.core.rating" in GRAPH["chesseval.core.results"]  # imported inside _rating()


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, targets in graph.items():
        here = stage(module)
        for target in targets:
            there = stage(target)
            if there != here and RANKS[there] >= RANKS[here]:
                out.append(f"{module} (rank {RANKS[here]}) imports {target} (rank {RANKS[there]})")
    return sorted(out)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return [*stack[stack.index(t):], t]
            if t not in state and (cycle := visit(t)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_imports_point_down() -> None:
    upward = upward_imports(GRAPH)
    assert not upward, "imports that do not point down:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checks_can_fail(tmp_path: Path) -> None:
    # The checks above must be able to fail: a made-up upward import, same-rank import and cycle.
    assert upward_imports({"chesseval.core.runner": {"chesseval.providers"}}) == [
        "chesseval.core.runner (rank 1) imports chesseval.providers (rank 3)"
    ]
    assert upward_imports({"chesseval.mining.miner": {"chesseval.analysis.report"}})  # same rank, other stage
    assert upward_imports({"chesseval.core.suites": {"chesseval"}})  # the face, for __version__
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    src = tmp_path / "probe.py"
    src.write_text("def f():\n    from chesseval.analysis import report\n    import chesseval.cli\n    from .. import errors\n", encoding="utf-8")
    MODULES["chesseval.core._probe"] = src
    try:
        assert imports_of("chesseval.core._probe") == {"chesseval.analysis.report", "chesseval.cli", "chesseval.errors"}
    finally:
        del MODULES["chesseval.core._probe"]


def test_face_all_is_its_public_names() -> None:
    public = {
        name
        for name, value in vars(chesseval).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, type(chesseval))  # submodules are not API
    }
    assert sorted(chesseval.__all__) == sorted(public | {"__version__"})
    assert len(chesseval.__all__) == len(set(chesseval.__all__))


def test_face_imports_nothing_private() -> None:
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    imported = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for a in node.names}
    assert imported - {"annotations"} == set(chesseval.__all__)
