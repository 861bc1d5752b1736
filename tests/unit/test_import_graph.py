"""The import graph of provider/dockerfeed keeps the shape docs/design.md describes (issue 12).

* no import circle, counting the imports made inside functions too;
* registry/ imports nothing of the faces or the core above it (resources/, the plugin, the CLI,
  lifecycle/, resolve) and never Pulumi; inside it, every module imports only from layers
  below its own;
* versions/ imports nothing of ours but itself.

Read from the source with `ast`, nothing is imported. `make lint` runs this file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "provider"
PACKAGE = ROOT / "dockerfeed"

# registry/, bottom to top: a module may import from lower layers only (docs/design.md,
# "registry/ in layers").
REGISTRY_LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("reference", "_http"),
    ("settings", "challenge", "platforms", "deadline", "retry"),
    ("credentials", "transport"),
    ("identity", "basic"),
    ("tokens", "hosts", "runcache", "readahead", "failures"),
    ("bearer", "session"),
    ("auth",),
    ("connection",),
    ("ping",),
    ("listing", "manifests"),
    ("catalog",),
    ("client",),
    ("__init__",),
)
ABOVE_REGISTRY = (
    "dockerfeed.resources",
    "dockerfeed.plugin",
    "dockerfeed.cli",
    "dockerfeed.lifecycle",
    "dockerfeed.resolve",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Every module `name` imports (at import time or inside a function), ours and others'."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from dockerfeed.registry import catalog` imports the submodule.
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
    return found


GRAPH = {name: {i for i in imports_of(name) if i in MODULES and i != name} for name in MODULES}


def test_the_graph_covers_the_package() -> None:
    assert "dockerfeed.registry.client" in GRAPH and "dockerfeed.versions" in GRAPH
    assert GRAPH["dockerfeed.resolve"], "resolve imports the registry and versions"


def test_no_import_circle() -> None:
    # Tarjan's strongly connected components: any component of more than one module is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert circles == [], f"import circles: {circles}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("dockerfeed.registry")))
def test_registry_imports_nothing_above_it_and_never_pulumi(name: str) -> None:
    imported = imports_of(name)
    above = sorted(i for i in imported if i.startswith(ABOVE_REGISTRY))
    assert above == [], f"{name} imports {above}"
    assert not any(i == "pulumi" or i.startswith("pulumi.") for i in imported), name


def _layer(name: str) -> int:
    short = name.removeprefix("dockerfeed.registry").removeprefix(".") or "__init__"
    for depth, layer in enumerate(REGISTRY_LAYERS):
        if short in layer:
            return depth
    raise AssertionError(f"{name} has no layer in REGISTRY_LAYERS: give it one (docs/design.md)")


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("dockerfeed.registry")))
def test_registry_modules_import_only_from_layers_below(name: str) -> None:
    mine = _layer(name)
    upward = sorted(i for i in GRAPH[name] if i.startswith("dockerfeed.registry") and _layer(i) >= mine)
    assert upward == [], f"{name} (layer {mine}) imports {upward} from its own layer or above"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("dockerfeed.versions")))
def test_versions_imports_nothing_of_ours(name: str) -> None:
    ours = sorted(i for i in GRAPH[name] if not i.startswith("dockerfeed.versions"))
    assert ours == [], f"{name} imports {ours}"
