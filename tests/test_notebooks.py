"""The teaching notebooks execute from top to bottom with the project's interpreter."""

import json
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "calcinosis-tests"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    """A kernel spec that runs this interpreter (the project's virtual environment)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "calcinosis tests", "language": "python"}))
    return root


def test_there_are_three_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_introduction.ipynb", "02_lessons.ipynb", "03_quiz.ipynb"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, kernel_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, kernel_name=KERNEL, timeout=300,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = json.dumps(outputs)
    if "quiz" in path.stem:
        assert text.count("produced the calcification) =") == len([c for c in notebook.cells if "reveal(" in c.source])
    else:
        assert "image/png" in text  # the figures are drawn
    sources = "\n".join(c.source for c in notebook.cells)
    assert sources.count("not a diagnosis") == 1
