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
    assert graph.has_edge("cli", "console") and graph.has_edge("web.server", "extras")
    assert graph.has_edge("modelcard", "evaluation")
