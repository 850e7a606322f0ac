"""Every example runs: the notebooks (through a real Jupyter kernel) and the scripts."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.notebooks
@pytest.mark.parametrize("name", ["jiaozuo_walkthrough.ipynb", "study_from_scratch.ipynb"])
def test_notebook_runs(name, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = nbformat.read(EXAMPLES / name, as_version=4)
    assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), (
        "commit notebooks without outputs"
    )
    client = nbclient.NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [
        o
        for c in book.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []


def test_toml_script_runs(capsys):
    res = runpy.run_path(str(EXAMPLES / "study_from_toml.py"), run_name="example")["main"]()
    out = capsys.readouterr().out
    assert "gdp-2025" in out and res["gdp-2025"].p_in_year.value > 0
