"""The house rules, checked on every module of the project: no import circle, no file past
~300 lines and no function past ~60 unless its docstring says why it must be one piece."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: folders whose modules import each other as packages: (folder on sys.path, its packages)
SOURCES = [ROOT, ROOT / "plugins", ROOT / "plugins" / "lssat-plugin-example"]
PACKAGES = ["lssat_framework", "lssat_descriptors", "lssat_timm", "lssat_mae", "lssat_tasks", "lssat_datasets", "lssat_plugin_example"]
CHECKED = ["lssat_framework", "plugins", "benchmarks", "tests"]
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 60
#: the words by which a docstring says why its file or function must stay one piece
ONE_PIECE = "one piece"


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    modules = {}
    for base in SOURCES:
        for package in PACKAGES:
            for path in sorted((base / package).rglob("*.py")) if (base / package).is_dir() else []:
                parts = list(path.relative_to(base).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, anywhere in the file (inside functions too: an import
    deferred to call time is still a dependency), except those only for type annotations."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    tree = ast.parse(path.read_text())
    # an import under `if TYPE_CHECKING:` only names a type for an annotation: it never runs
    type_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
                 for inner in ast.walk(node)}
    found = set()
    for node in (node for node in ast.walk(tree) if id(node) not in type_only):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in modules else target)
    return {module for module in found if module in modules and module != name}


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_module_imports_itself_through_others():
    modules = project_modules()
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    circles = import_circles(graph)
    assert not circles, "import circles: " + "; ".join(" <-> ".join(str(modules[m].relative_to(ROOT)) for m in c) for c in circles)


def test_the_circle_check_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_circles(graph) == [["a", "b", "c"]]


def checked_files() -> list[Path]:
    return sorted(p for folder in CHECKED for p in (ROOT / folder).rglob("*.py") if ".egg-info" not in str(p))


@pytest.mark.parametrize("path", checked_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_files_and_functions_keep_their_size(path):
    tree = ast.parse(path.read_text())
    lines = len(path.read_text().splitlines())
    docstring = ast.get_docstring(tree) or ""
    assert lines <= MAX_FILE_LINES or ONE_PIECE in docstring, (
        f"{path.relative_to(ROOT)} has {lines} lines (the rule is ~{MAX_FILE_LINES}): split it by concern, "
        f"or say in its docstring why it must be {ONE_PIECE}")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES or ONE_PIECE in (ast.get_docstring(node) or ""), (
                f"{path.relative_to(ROOT)}:{node.lineno} {node.name} has {length} lines (the rule is ~{MAX_FUNCTION_LINES})")


#: the core's layers, top to bottom: a module imports only from its own layer and those below it
#: (docs/architecture.md draws them). The façade (the package itself, ``python -m`` and the
#: plugin-testing helpers) stands above them all.
LAYERS = [
    ("façade", ["lssat_framework", "lssat_framework.__main__", "lssat_framework.testing"]),
    ("cli", ["lssat_framework.cli"]),
    ("predict", ["lssat_framework.predict"]),
    ("sweep", ["lssat_framework.sweep"]),
    ("report", ["lssat_framework.report"]),
    ("train", ["lssat_framework.train"]),
    ("model", ["lssat_framework.model"]),
    ("spec", ["lssat_framework.spec"]),
    ("plugins", ["lssat_framework.plugins"]),
    ("plugin API", ["lssat_framework.hookspecs", "lssat_framework.interfaces", "lssat_framework.declared", "lssat_framework.images"]),
    ("files", ["lssat_framework.files"]),
    ("errors", ["lssat_framework.errors"]),
]


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of the longest prefix naming ``module``'s room."""
    best, found = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found is not None, f"{module} is in no layer of LAYERS: add its room"
    return found


def test_every_core_module_imports_only_its_own_layer_and_those_below():
    modules = project_modules()
    upward = []
    for name, path in modules.items():
        if not name.startswith("lssat_framework"):
            continue
        for target in imported_modules(name, path, modules):
            if target.startswith("lssat_framework") and layer_of(target) < layer_of(name):
                upward.append(f"{path.relative_to(ROOT)} ({LAYERS[layer_of(name)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})")
    assert not upward, "imports up the layers: " + "; ".join(sorted(upward))


def test_architecture_doc_names_every_room_and_only_files_that_exist():
    """docs/architecture.md is how a newcomer finds a piece: every folder of the core is named
    there, and every folder and module it names exists."""
    import re

    text = (ROOT / "docs" / "architecture.md").read_text()
    core = ROOT / "lssat_framework"
    rooms = {p.parent.name for p in core.glob("*/__init__.py")}
    named_rooms = set(re.findall(r"(?<![\w./-])([a-z_]+)/(?![\w.])", text))
    assert rooms <= named_rooms, f"rooms missing from docs/architecture.md: {sorted(rooms - named_rooms)}"
    modules = {str(p.relative_to(core)) for p in core.rglob("*.py")}
    basenames = {p.name for p in core.rglob("*.py")}
    for path in set(re.findall(r"(?<![\w./-])((?:[a-z_]+/)?[a-z_]+\.py)\b", text)):
        if path.startswith("tests/"):
            assert (ROOT / path).is_file(), path
        elif "/" in path:
            assert path in modules, f"docs/architecture.md names {path}, which does not exist"
        else:
            assert path in basenames, f"docs/architecture.md names {path}, which does not exist"
    for room in named_rooms - {"docs", "plugins", "lssat_framework", "tests"}:
        assert (core / room).is_dir(), f"docs/architecture.md names {room}/, which is no room of the core"
