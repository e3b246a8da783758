"""The experiment's images: references, their blurred versions, random training crops, grid predictions."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from .tables import sigma_to_mos, true_bias


def _load_embedded(name: str) -> np.ndarray:
    import skimage.data

    from ...data.images import to_rgb_uint8

    image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle_left" else getattr(skimage.data, name)()
    return to_rgb_uint8(image, source=f"skimage.data.{name}")


def _limit_size(image: np.ndarray, max_side: int) -> np.ndarray:
    from PIL import Image

    height, width = image.shape[:2]
    if not max_side or max(height, width) <= max_side:  # 0: no limit
        return image
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def _pad_to(image: np.ndarray, size: int) -> np.ndarray:
    """Mirror-pads an image smaller than the crop (blur statistics are kept)."""
    pad_h, pad_w = max(0, size - image.shape[0]), max(0, size - image.shape[1])
    if not pad_h and not pad_w:
        return image
    return np.pad(image, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)), mode="symmetric")


def load_references(names, options) -> dict:
    """name -> RGB uint8 reference (size-limited, padded to at least the crop size)."""
    from ...data.images import read_image

    references = {}
    for name in sorted(set(names)):
        image = _load_embedded(name) if options.refs is None else read_image(Path(options.refs) / name)
        references[name] = _pad_to(_limit_size(image, options.max_side), options.crop_size)
    return references


def gaussian_blur(image: np.ndarray, sigma: float, mode: str = "reflect") -> np.ndarray:
    """Gaussian blur of each colour channel (4-sigma kernel), uint8 out.

    ``mode``: how the borders are extended, "reflect" (default) or
    "nearest" (repeating the edge pixels, scikit-image's ``gaussian`` default,
    which the reference implementation used).
    """
    from scipy.ndimage import gaussian_filter

    if sigma <= 0:
        return image.copy()
    blurred = gaussian_filter(image.astype(np.float32), sigma=(sigma, sigma, 0), mode=mode, truncate=4.0)
    return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)


@dataclasses.dataclass
class Split:
    """The blurred images of one split, their true MOS, targets and dataset labels."""

    images: list
    names: list
    sigma: np.ndarray
    mos: np.ndarray  # true (unbiased) MOS
    target: np.ndarray  # the MOS the network is trained or scored against (biased for training)
    db: np.ndarray  # labels


def build_split(table, references: dict, biased: bool, biases: dict | None = None,
                blur_mode: str = "reflect") -> Split:
    """Blurs every row's reference once (the run's images are fixed) and computes its MOS.

    ``biases``: ``{label: [b0, b1, b2, b3]}`` of the biased training MOS
    (default: :func:`true_bias` of each label).
    """
    from ...training.bias import evaluate_polynomial

    missing = sorted(set(table["src_image"]) - set(references))
    if missing:
        raise ValueError(f"table names reference image(s) not loaded: {', '.join(missing)}")
    sigma = table["sigma"].to_numpy(dtype=float)
    mos = sigma_to_mos(sigma)
    db = table["db"].astype(str).to_numpy()
    bias_of = biases.__getitem__ if biases is not None else true_bias
    target = np.array([evaluate_polynomial(bias_of(d), m) for d, m in zip(db, mos)]) if biased else mos.copy()
    images = [gaussian_blur(references[name], s, blur_mode) for name, s in zip(table["src_image"], sigma)]
    return Split(images, list(table["src_image"]), sigma, mos, target, db)


# --------------------------------------------------------------------------- crops


def grid_crops(images, size: int, grid: int) -> np.ndarray:
    """A fixed ``grid`` x ``grid`` lattice of crops per image: (N * grid^2, size, size, 3) uint8."""
    crops = []
    for image in images:
        height, width = image.shape[:2]
        for top in np.linspace(0, height - size, grid).round().astype(int):
            for left in np.linspace(0, width - size, grid).round().astype(int):
                crops.append(image[top: top + size, left: left + size])
    return np.stack(crops)


def centre_crops(images, size: int) -> np.ndarray:
    """The centre ``size`` x ``size`` crop of each image (torchvision's CenterCrop): (N, size, size, 3) uint8."""
    crops = []
    for image in images:
        height, width = image.shape[:2]
        top, left = int(round((height - size) / 2.0)), int(round((width - size) / 2.0))
        crops.append(image[top: top + size, left: left + size])
    return np.stack(crops)


def random_crops(images, size: int, rng) -> np.ndarray:
    """One random ``size`` crop of each image, mirrored left-right with probability 1/2: (N, size, size, 3)."""
    crops = []
    for image in images:
        top = rng.integers(0, image.shape[0] - size + 1)
        left = rng.integers(0, image.shape[1] - size + 1)
        crop = image[top: top + size, left: left + size]
        crops.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    return np.stack(crops)


class CropSampler:
    """Random crops with random horizontal flips; one call yields one epoch of batches.

    Every image appears ``crops_per_image`` times per epoch, in a shuffled
    order. The crops of epoch e come from ``default_rng([seed, e])``.
    ``drop_last`` leaves out the last batch of an epoch when it is not full
    (as the reference's ``DataLoader(drop_last=True)`` did).
    """

    def __init__(self, images, targets: np.ndarray, size: int, batch_size: int, crops_per_image: int,
                 seed: int, first_epoch: int = 0, drop_last: bool = False):
        self.images, self.targets = images, np.asarray(targets, dtype=np.float32)
        self.size, self.batch_size, self.crops_per_image = int(size), int(batch_size), int(crops_per_image)
        self.seed, self.epoch = int(seed), int(first_epoch)
        self.drop_last = bool(drop_last)
        if self.drop_last and self.steps() == 0:
            raise ValueError(f"drop_last: {len(images) * self.crops_per_image} crops per epoch make no full batch "
                             f"of {self.batch_size}")

    def steps(self) -> int:
        crops = len(self.images) * self.crops_per_image
        return crops // self.batch_size if self.drop_last else math.ceil(crops / self.batch_size)

    def __call__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        order = np.concatenate([rng.permutation(len(self.images)) for _ in range(self.crops_per_image)])
        size = self.size
        for start in range(0, self.steps() * self.batch_size, self.batch_size):
            chosen = order[start: start + self.batch_size]
            batch = np.empty((len(chosen), size, size, 3), np.float32)
            for slot, index in enumerate(chosen):
                image = self.images[index]
                top = rng.integers(0, image.shape[0] - size + 1)
                left = rng.integers(0, image.shape[1] - size + 1)
                crop = image[top: top + size, left: left + size]
                batch[slot] = crop[:, ::-1] if rng.random() < 0.5 else crop
            yield batch, self.targets[chosen]

    def dataset(self):
        import tensorflow as tf

        signature = (
            tf.TensorSpec((None, self.size, self.size, 3), tf.float32),
            tf.TensorSpec((None, self.targets.shape[1]), tf.float32),
        )
        # Repeated, and consumed ``steps()`` batches per epoch: one generator call per epoch.
        return tf.data.Dataset.from_generator(self, output_signature=signature).repeat().prefetch(2)


def predict_images(model, crops: np.ndarray, per_image: int, batch_size: int = 64) -> np.ndarray:
    """Mean prediction over each image's fixed crops."""
    predictions = np.ravel(model.predict(crops, batch_size=batch_size, verbose=0))
    return predictions.reshape(-1, per_image).mean(axis=1)


# --------------------------------------------------------------------------- callbacks
