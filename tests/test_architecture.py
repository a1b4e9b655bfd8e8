"""The package's modules import one another without cycles (lazy imports inside functions
count too: a cycle there is still two modules that each need the other)."""

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "model"


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        graph.add_node(module)
        package = module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                graph.add_edge(module, ".".join([*base, node.module]))
            else:  # from . import a, b
                graph.add_edges_from((module, ".".join([*base, alias.name])) for alias in node.names)
    return graph


def test_no_import_cycles():
    cycles = sorted(nx.simple_cycles(import_graph()), key=len)
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert graph.has_edge("interfaces.cli", "interfaces.console")
    assert graph.has_edge("interfaces.web.server", "foundation.extras")
    assert graph.has_edge("interfaces.modelcard", "analyses.evaluation")


def test_the_packages_are_the_layers():
    """The code is laid out in the six layers a reader looks for, each saying what it owns,
    and no module is left loose at the top beside them."""
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert packages == {"foundation", "data", "network", "inference", "analyses", "interfaces"}
    for name in packages:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.split()) > 15, name
    loose = {path.stem for path in PACKAGE.glob("*.py")}
    assert loose == {"__init__", "__main__", "errors"}


def test_imports_flow_down_the_layers_of_the_contract():
    """`lint-imports` checks the layers contract of pyproject.toml on the installed package."""
    import shutil
    import subprocess
    import sys

    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert command, "import-linter is a test dependency (pip install -e '.[test]')"
    result = subprocess.run([command, "--no-cache"], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "0 broken" in result.stdout, result.stdout[-3000:]


def test_the_architecture_page_is_what_the_code_draws():
    """docs/architecture.md is generated from the contract and the imports; it cannot drift."""
    import runpy

    tool = runpy.run_path(str(PACKAGE.parent / "tools" / "architecture.py"))
    committed = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert committed == tool["page"](), "docs/architecture.md is stale: run `python tools/architecture.py`"
    # every module of the package sits in a layer of the contract
    layers, _ = tool["layers"]()
    placed = {m for layer in layers for m in layer}
    for module in tool["module_files"]():
        inside = any(module.startswith(m + ".") for m in placed)  # a module of a package named in the contract
        assert module == "__init__" or module in placed or inside or (PACKAGE / module / "__init__.py").is_file(), module


def _shown_strings(code: str) -> list[str]:
    """The string literals of a module that are not docstrings (docstrings may say anything)."""
    tree = ast.parse(code)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docstrings]


def test_one_disclaimer_and_one_formatter_module():
    """The disclaimer is written once (defaults) and percentages are formatted in one module."""
    import re

    from calcinosis.foundation.defaults import DISCLAIMER, NOT_A_DIAGNOSIS

    assert DISCLAIMER.startswith(NOT_A_DIAGNOSIS)
    for path in PACKAGE.rglob("*"):
        if path.suffix not in (".py", ".yaml", ".js") or path.name == "defaults.py":
            continue
        code = path.read_text(encoding="utf-8")
        shown = _shown_strings(code) if path.suffix == ".py" else [code]
        assert not any("not a diagnosis" in text for text in shown), path.name
        if path.suffix == ".py" and path.name != "formatting.py":
            assert not re.search(r"^def _?(pct|percent)\(", code, re.MULTILINE), path.name
    assert NOT_A_DIAGNOSIS in (PACKAGE / "interfaces" / "web" / "static" / "index.html").read_text(encoding="utf-8")


def test_pgmpy_is_behind_one_adapter():
    """Only ``network.pgmpy_adapter`` imports pgmpy (at any depth of a function); the rest of
    the package asks the adapter, so a change of pgmpy's API is mended in one module."""
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            if any(name == "pgmpy" or name.startswith("pgmpy.") for name in names):
                importers.add(path.relative_to(PACKAGE).as_posix())
    assert importers == {"network/pgmpy_adapter.py"}
