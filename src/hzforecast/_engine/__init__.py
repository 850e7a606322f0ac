"""The simulation engine (private): model compilation, blocks, the kernel, quantiles.

This package's stated interface is what it exports here; :mod:`hzforecast.simulate` is its
public front, and :mod:`hzforecast._assess` reads blocks through :class:`BlockState`.

* :mod:`.model` — :func:`compile_model`: a study and a scenario → :class:`Model`;
* :mod:`.blocks` — :class:`BlockLayout`, :func:`run_blocks` (block order, any executor),
  memory estimates;
* :mod:`.kernel` — :func:`draw_block` and :func:`simulate_block` → :class:`BlockState`;
* :mod:`.quantiles` — fast quantile functions and growth CDFs.

Random normals come from :mod:`hzforecast._rng`.
"""

from .blocks import (
    BLOCK,
    DEFAULT_CHUNK,
    METHODS,
    Block,
    BlockLayout,
    bridge_matrix,
    check_memory,
    layout_for,
    run_blocks,
)
from .kernel import BlockState, add_derived, drifts, log_value, path_sigmas, path_walks
from .model import (
    PRECISIONS,
    CorrectionUsed,
    DerivedPlan,
    IndicatorPlan,
    Model,
    ParamSpec,
    SimulationError,
    compile_model,
)
from .quantiles import VolatilityDraw, growth_cdf, ppf

__all__ = [
    "BLOCK",
    "DEFAULT_CHUNK",
    "METHODS",
    "PRECISIONS",
    "Block",
    "BlockLayout",
    "BlockState",
    "CorrectionUsed",
    "DerivedPlan",
    "IndicatorPlan",
    "Model",
    "ParamSpec",
    "SimulationError",
    "VolatilityDraw",
    "add_derived",
    "bridge_matrix",
    "check_memory",
    "compile_model",
    "drifts",
    "growth_cdf",
    "layout_for",
    "log_value",
    "path_sigmas",
    "path_walks",
    "ppf",
    "run_blocks",
]
