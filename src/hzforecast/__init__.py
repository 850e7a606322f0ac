"""hzforecast — is a development target reachable, with what probability, and what would it take?

The flow runs one way::

    Study (spec) → simulate → Paths → assess → Assessment → to_frame / report

>>> import hzforecast as hz
>>> study = hz.load_study("jiaozuo-2019")
>>> [f.severity for f in study.audit().findings if f.code == "multiple-mismatch"]
['error']
"""

from . import closedform, reference, report, trackrecord
from .assess import (
    Assessment,
    Estimate,
    GroupResult,
    TargetResult,
    assess,
    compare_scenarios,
    load_assessment,
)
from .audit import AuditResult, Finding, audit
from .backtest import BacktestResult, backtest
from .discover import discover, prim
from .figures import Figure, FigureError, convert, parse_figure
from .fit import DEFAULT_PRIOR, FitResult, GrowthPrior, InsufficientDataError, fit
from .io import StudyFileError, builtin_studies, load_study, read_study, write_study
from .sensitivity import sobol_indices
from .simulate import Paths, SimulationError, simulate
from .spec import (
    Assumption,
    Claim,
    CommonShock,
    Correction,
    Correlation,
    Derivation,
    Indicator,
    Observation,
    Scenario,
    Shock,
    Source,
    Study,
    Target,
    TargetGroup,
)
from .whatif import required_growth, stress, tornado

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PRIOR",
    "Assessment",
    "Assumption",
    "AuditResult",
    "BacktestResult",
    "Claim",
    "CommonShock",
    "Correction",
    "Correlation",
    "Derivation",
    "Estimate",
    "Figure",
    "FigureError",
    "Finding",
    "FitResult",
    "GroupResult",
    "GrowthPrior",
    "Indicator",
    "InsufficientDataError",
    "Observation",
    "Paths",
    "Scenario",
    "Shock",
    "SimulationError",
    "Source",
    "Study",
    "StudyFileError",
    "Target",
    "TargetGroup",
    "TargetResult",
    "__version__",
    "assess",
    "audit",
    "backtest",
    "builtin_studies",
    "closedform",
    "compare_scenarios",
    "convert",
    "discover",
    "fit",
    "load_assessment",
    "load_study",
    "parse_figure",
    "prim",
    "read_study",
    "reference",
    "report",
    "required_growth",
    "simulate",
    "sobol_indices",
    "stress",
    "tornado",
    "trackrecord",
    "write_study",
]
