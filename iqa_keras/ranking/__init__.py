"""The surrogate ranking network of the differentiable Spearman loss: data, training, evaluation, weights.

The network itself is the ``ranking16`` architecture
(:mod:`iqa_keras.architectures.ranking`). ``ranking_model/train.py`` and
``ranking_model/test.py`` are thin command-line wrappers around
:func:`train_ranking_network` and :func:`evaluate_ranking_network`.
"""
from .data import average_ranks, make_rank_dataset, sample_score_vectors  # noqa: F401
from .evaluation import (  # noqa: F401
    ACCURACY_TARGETS,
    TEST_DISTRIBUTIONS,
    evaluate_ranking_network,
    format_evaluation,
    spearman_from_ranks,
)
from .training import train_ranking_network  # noqa: F401
from .weights import (  # noqa: F401
    RANK_WIDTH,
    SHIPPED_WEIGHTS,
    WEIGHTS_DIR,
    build_ranking_network,
    load_ranking_network,
    save_ranking_weights,
)
