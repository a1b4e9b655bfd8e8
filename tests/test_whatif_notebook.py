"""The what-if notebook (docs/whatif.ipynb) executes and draws its figures."""

import json
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

KERNEL = "calcinosis-whatif-tests"


@pytest.mark.slow
def test_whatif_notebook_executes(tmp_path, monkeypatch):
    spec = tmp_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "calcinosis tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(ROOT / "docs" / "whatif.ipynb", as_version=4)
    NotebookClient(notebook, kernel_name=KERNEL, timeout=300, resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert json.dumps(outputs).count("image/png") >= 3  # the three questions' figures
    assert "\n".join(c.source for c in notebook.cells).count("not a diagnosis") == 1
