"""Figures are drawn without pyplot: importing the package keeps the caller's Matplotlib backend."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from iqa_keras.utils import plots


def test_importing_the_package_leaves_the_matplotlib_backend_alone():
    code = "import matplotlib; import iqa_keras, iqa_keras.utils.plots; print(matplotlib.get_backend())"
    env = {**os.environ, "MPLBACKEND": "svg", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": str(Path(plots.__file__).parents[2])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip().lower() == "svg"


def test_every_figure_is_a_png(tmp_path, rng):
    image = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    written = [
        plots.scatter_predictions(rng.normal(size=20), rng.normal(size=20), tmp_path / "s.png", db=["a", "b"] * 10),
        plots.learning_curves([{"epoch": 1, "loss": 1.0, "val_srcc": 0.5}, {"epoch": 2, "loss": 0.5, "val_srcc": 0.7}],
                              tmp_path / "l.png"),
        plots.plot_pair_result(image, image, 3.2, tmp_path / "p.png"),
        plots.plot_patch_heatmap(image, [(0, 0, 32, 32), (8, 16, 40, 48)], [1.0, 2.0],
                                 rng.uniform(1, 2, (40, 48)), tmp_path / "h.png"),
        plots.nima_distributions(*rng.uniform(1, 9, (4, 10)), tmp_path / "n.png"),
        plots.jpeg_check_figure([90, 50], [[5.0, 4.0], [6.0, 3.5]], ["x", "y"], tmp_path / "j.png"),
    ]
    for path in written:
        with Image.open(path) as figure:
            assert figure.format == "PNG" and figure.size[0] > 100
