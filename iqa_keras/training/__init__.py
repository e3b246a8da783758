"""Training from a config: ``train(load_config(path))`` runs (or resumes) one run folder.

* :mod:`.run`: ``train()`` and ``build_compiled_model()``;
* :mod:`.tasks`: what differs between score, histogram (NIMA) and bias-aware runs;
* :mod:`.data`: the config's datasets -> records per role -> tf.data pipelines;
* :mod:`.callbacks`: checkpoints, early stopping, history, plots, resume state;
* :mod:`.optimizers`: Adam / two-rate Adam and the learning-rate schedules;
* :mod:`.bias`: the bias-aware loss's per-dataset bias fitting and its callback;
* :mod:`.strategy`: the tf.distribute strategy and what each worker does under it;
  :mod:`.launch`: local worker processes for ``--workers N``; :mod:`.evaluate`: the final figures.
"""
from .data import PreparedData, make_pipelines, prepare_data  # noqa: F401
from .run import build_compiled_model, train  # noqa: F401
from .strategy import make_strategy  # noqa: F401
from .tasks import BiasAwareTask, HistogramTask, ScoreTask, task_for  # noqa: F401
