"""IQA metrics on whole evaluation sets, and the callback that logs them per epoch.

* :mod:`.correlation`: SRCC, PLCC, KRCC, RMSE, the VQEG logistic mapping,
  bootstrap confidence intervals, ``correlation_report``.
* :mod:`.histogram`: NIMA's figures for predicted score histograms.
* :mod:`.callback`: ``EpochMetrics``, the whole-set figures in ``model.fit``'s logs.
* :mod:`.keras_metric`: ``Correlation``, whole-set SRCC/PLCC/KRCC as a ``keras.metrics.Metric`` (``model.evaluate``).
* :mod:`.classical`: classical full-reference metrics on image pairs (PSNR, SSIM, MS-SSIM, GMSD, VIF, FSIM),
  registered in ``iqa_keras.registry.FR_METRICS``; ``compute_metric(name, reference, distorted)`` on arrays.
"""
from . import classical  # noqa: F401  (registers the classical metrics in FR_METRICS)
from .callback import EpochMetrics, predict_batch  # noqa: F401
from .keras_metric import Correlation  # noqa: F401
from .correlation import (  # noqa: F401
    METRIC_NAMES,
    METRICS,
    LogisticMapping,
    bootstrap_ci,
    correlation_report,
    fit_logistic,
    krcc,
    logistic4,
    logistic5,
    pearson_r,
    plcc,
    plcc_logistic,
    rank_average,
    rmse,
    rmse_logistic,
    srcc,
)
from .histogram import (  # noqa: F401
    binary_accuracy,
    confusion_matrix,
    emd,
    format_nima_report,
    nima_report,
    std_of_score_differences,
)
