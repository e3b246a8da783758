"""Classical full-reference IQA metrics on batches of RGB image pairs, registered in ``FR_METRICS``.

Each metric is a function ``fn(reference, distorted) -> (batch,)`` float32
of two ``(batch, H, W, 3)`` RGB float tensors on [0, 255], usable eagerly or
inside a ``tf.function``; its module's docstring states its conventions
(colour handling, downsampling, data range, direction):

* ``psnr`` (:mod:`.psnr`): dB over RGB; higher is better.
* ``ssim``, ``ms_ssim`` (:mod:`.ssim`): on luma; SSIM after Wang's automatic
  downsampling; higher is better.
* ``gmsd`` (:mod:`.gmsd`): a distance, LOWER is better.
* ``vif`` (:mod:`.vif`): pixel-domain VIF; higher is better.
* ``fsim`` (:mod:`.fsim`): feature similarity with phase congruency; higher is better.

``compute_metric(name, reference, distorted)`` runs one on NumPy arrays
(uint8 or float, one pair or a batch) through a cached graph;
``FR_METRICS.get(name)`` gives the ``ClassicalMetric`` (function, direction,
description).
"""
from .colour import LUMA_WEIGHTS, YIQ_MATRIX, rgb_to_luma, rgb_to_yiq  # noqa: F401
from .downsample import average_downsample, wang_downsample_factor  # noqa: F401
from .metric import ClassicalMetric  # noqa: F401
from .psnr import PSNR, psnr  # noqa: F401
from .ssim import MS_SSIM, SSIM, ms_ssim, ssim  # noqa: F401
from .gmsd import GMSD, gmsd  # noqa: F401
from .vif import VIF, vif  # noqa: F401
from .fsim import FSIM, fsim  # noqa: F401
from .phase_congruency import phase_congruency  # noqa: F401
from .compute import compute_metric, get_metric, metric_graph  # noqa: F401

METRIC_NAMES = ("psnr", "ssim", "ms_ssim", "gmsd", "vif", "fsim")
