"""The library's layers: imports flow one way, and no module reaches into another's
private names (issue 13). docs/architecture.md draws the same picture."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "hzforecast"

#: Every module (or private package) and its layer; a module may import from its own layer
#: and the layers below it, never above.
LAYERS = {
    "spec": [
        "_lazy", "_rng", "_scales", "_words", "_files", "_progress", "figures", "distributions",
        "spec", "_study_text", "audit", "closedform", "scores",
    ],
    "fit": ["_fitting", "fit", "reference", "trackrecord", "_resolve", "io", "backtest", "batch"],
    "simulate": ["_engine", "simulate"],
    "assess": ["_assess", "assess"],
    "levers": ["whatif", "sensitivity", "discover"],
    "present": ["plot", "report"],
    "cli": ["cli", "__main__", "__init__"],
}  # fmt: skip
ORDER = list(LAYERS)
LAYER_OF = {m: ORDER.index(layer) for layer, mods in LAYERS.items() for m in mods}


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        yield rel.parts, path


def _top(parts):
    """The layer unit of a module: its private package, or the module itself."""
    return parts[0]


def _imports(parts, path):
    """(imported top-level unit, names) for every relative import of hzforecast."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = list(parts[:-1])  # the package the module is in, relative to hzforecast
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
            target = [*base, *(node.module.split(".") if node.module else [])]
            names = [a.name for a in node.names]
            if not target:  # from . import x: the module x itself
                for n in names:
                    yield n, None, node.lineno
            else:
                yield target[0], (target, names), node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("hzforecast."):
                    yield a.name.split(".")[1], None, node.lineno


def test_every_module_has_a_layer():
    units = {_top(parts) for parts, _ in _modules()}
    assert units <= set(LAYER_OF), f"modules without a layer: {sorted(units - set(LAYER_OF))}"


def test_imports_flow_down_the_layers():
    bad = []
    for parts, path in _modules():
        here = _top(parts)
        for unit, _, line in _imports(parts, path):
            if unit in LAYER_OF and LAYER_OF[unit] > LAYER_OF[here]:
                bad.append(f"{'/'.join(parts)}.py:{line} imports {unit} ({ORDER[LAYER_OF[unit]]})")
    assert bad == [], "imports against the layer order:\n" + "\n".join(bad)


def test_no_module_imports_another_modules_private_names():
    bad = []
    for parts, path in _modules():
        for _, detail, line in _imports(parts, path):
            if detail is None:
                continue
            target, names = detail
            same_unit = target[0] == _top(parts)
            for n in names:
                if n.startswith("_") and not same_unit:
                    bad.append(f"{'/'.join(parts)}.py:{line} imports {n} from {'.'.join(target)}")
    assert bad == [], "private names imported across modules:\n" + "\n".join(bad)


@pytest.mark.parametrize("unit", ["_engine", "_assess"])
def test_private_packages_are_reached_through_their_interface(unit):
    """Other modules import from the package itself (its __init__), not its modules."""
    bad = []
    for parts, path in _modules():
        if _top(parts) == unit:
            continue
        for u, detail, line in _imports(parts, path):
            if u == unit and detail is not None and len(detail[0]) > 1:
                bad.append(f"{'/'.join(parts)}.py:{line} imports {'.'.join(detail[0])}")
    assert bad == []


def test_import_leaves_scipy_and_pandas_for_later():
    """`import hzforecast` does not import scipy or pandas (about 0.4 s between them): they
    come when a function needs them (make bench times the start-up)."""
    code = "import sys, hzforecast; print([m for m in ('scipy', 'pandas') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_special_is_scipy_special():
    from scipy import special

    from hzforecast._lazy import special as lazy

    assert lazy.ndtr is special.ndtr and lazy.stdtrit is special.stdtrit
    with pytest.raises(AttributeError):
        lazy.no_such_function
