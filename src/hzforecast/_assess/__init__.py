"""The assessment (private): target plans, per-path estimators, Monte Carlo statistics,
per-block statistics, their accumulation, and the results.

:mod:`hzforecast.assess` is the public front. The flow inside:

* :mod:`.plans` — each target and group placed on the model's grid (:func:`plan_run`);
* :mod:`.estimators` — per-path probabilities (conditional Monte Carlo, sequential
  conditioning, the growth integrated out);
* :mod:`.blockstats` — one block → :class:`BlockStats` (what a worker sends back);
* :mod:`.montecarlo` — sums, standard errors, the variance-minimising mixture, :class:`Estimate`;
* :mod:`.accumulate` — blocks folded in order → :class:`Assessment`;
* :mod:`.results` — :class:`TargetResult`, :class:`GroupResult`, :class:`Assessment`.
"""

from .accumulate import QUANTILES, Accumulator
from .blockstats import SAMPLE_MAX, BlockStats, block_stats, rule_holds, rule_probability
from .estimators import (
    growth_integrated_by,
    last_prob,
    measure,
    meets,
    probability_given_parameters,
    smoothed_prob,
    survival_by,
)
from .montecarlo import (
    Estimate,
    MixtureAccumulator,
    ProbabilityAccumulator,
    Sums,
    accumulate,
    co_moments,
    min_variance_weights,
    wilson_interval,
)
from .persist import load as load_assessment
from .persist import save as save_assessment
from .plans import GroupPlan, TargetPlan, derived_needed, group_plans, plan_run, plan_targets
from .results import (
    FAR_OFF,
    ON_TRACK,
    Assessment,
    AssumptionUsed,
    GroupResult,
    TargetResult,
    paired_difference,
    progress_status,
)
from .table import (
    LABELS,
    Row,
    comparison_table,
    html_table,
    markdown_table,
    rows,
    text_table,
    threshold_text,
)

__all__ = [
    "FAR_OFF",
    "LABELS",
    "ON_TRACK",
    "QUANTILES",
    "SAMPLE_MAX",
    "Accumulator",
    "Assessment",
    "AssumptionUsed",
    "BlockStats",
    "Estimate",
    "GroupPlan",
    "GroupResult",
    "MixtureAccumulator",
    "ProbabilityAccumulator",
    "Row",
    "Sums",
    "TargetPlan",
    "TargetResult",
    "accumulate",
    "block_stats",
    "co_moments",
    "comparison_table",
    "derived_needed",
    "group_plans",
    "growth_integrated_by",
    "html_table",
    "last_prob",
    "load_assessment",
    "markdown_table",
    "measure",
    "meets",
    "min_variance_weights",
    "paired_difference",
    "plan_run",
    "plan_targets",
    "probability_given_parameters",
    "progress_status",
    "rows",
    "rule_holds",
    "rule_probability",
    "save_assessment",
    "smoothed_prob",
    "survival_by",
    "text_table",
    "threshold_text",
    "wilson_interval",
]
