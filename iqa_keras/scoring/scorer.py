"""``Scorer``: one scorer for full-reference and no-reference models, alone or as an ensemble.

It turns images of any size into scores on the models' MOS scale:

1. decode the images to RGB uint8 (grey, RGBA, 16-bit are converted), in a
   thread pool that runs ahead of the model work;
2. cut them into model-size patches (``mode="patches"``, see
   :mod:`.patches`), or take the central patch (``"center"``) or the whole
   image resized (``"resize"``);
3. run one ``tf.function`` per batch of patches that stacks every test-time
   augmentation (see :mod:`.tta`), runs each model over the stack one
   augmentation at a time (bounded memory), turns a histogram (NIMA) output
   into its mean score, de-normalises each model's output with its
   ``ModelInfo`` and averages over models and augmentations;
4. pool the patch scores of each pair (or image) into one score: their
   mean, or their mean weighted by the reference's texture (``pooling``,
   see :mod:`.pooling`; by default the rule recorded in each model's
   ``ModelInfo``).

Memory and time grow linearly with the image area: patches are cut from
the decoded image a batch at a time (never all at once, never re-copied
while they wait), and decoding runs ahead by fewer pairs when the images
are large (about 64 megapixels in flight).

A full-reference model sees (reference, distorted); a no-reference model
sees the distorted image only, so an image alone can be scored with
:meth:`Scorer.score_image`. For a single no-reference model,
:meth:`Scorer.outputs` also gives the raw output (the NIMA histogram) and the
pooled feature vector, and :meth:`Scorer.feature_distance` the cosine
distance between the features of two images.
"""
from __future__ import annotations

import collections
import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf

from ..data.images import ImageReadError, read_image, to_rgb_uint8
from ..data.pipeline import fit_to_size_numpy
from ..model_io import ModelInfo, infer_info, load_model
from ..resources import shipped_dir
from ..scales import histogram_moments
from ..utils.precision import computes_in, policy_name, set_precision
from .patches import ImagePatches, PatchGrid, StackedPatches, patch_grid
from .pooling import check_pooling, patch_weights, pool_scores
from .tta import Augmentation, augment_pairs, resolve_tta

DEFAULT_MODELS_DIR = shipped_dir("models")  # the shipped models/ folder, installed or in a checkout
MODES = ("patches", "center", "resize")
DECODE_AHEAD_PIXELS = 64_000_000  # decoded but not yet scored: about 190 MB of RGB


class NoModelsError(FileNotFoundError):
    """No model file where models were expected."""


def model_files(path: str | os.PathLike) -> list[str]:
    """A ``.keras`` file, or every ``.keras`` file directly in a folder (sorted by name)."""
    path = os.fspath(path)
    if os.path.isfile(path):
        if not path.endswith(".keras"):
            raise ValueError(f"model file must be a .keras file written by Keras 3: {path}")
        return [path]
    if os.path.isdir(path):
        files = sorted(
            os.path.join(path, name)
            for name in os.listdir(path)
            if name.endswith(".keras") and not name.startswith(".")
        )
        if not files:
            raise NoModelsError(
                f"no .keras model in {path}. Put a trained model there (iqa-keras train writes "
                f"best.keras into its run folder) or pass --models PATH (a .keras file or a folder of them)"
            )
        return files
    raise NoModelsError(f"model path not found: {path} (pass --models PATH: a .keras file or a folder of them)")


def single_model_path(path) -> Path:
    """One model: a ``.keras`` file as given, or the ``best.keras`` of a run folder."""
    path = Path(path)
    return path / "best.keras" if path.is_dir() else path


def no_reference_scorer(path, mode: str = "patches", stride: int | None = None, batch_size: int = 8,
                        pooling: str | None = None) -> "Scorer":
    """A ``Scorer`` of one no-reference model (a file, or a run folder's ``best.keras``) for whole images.

    ``stride=None`` here means non-overlapping input-size patches (plus one
    aligned to each far edge). The model must have a feature layer; that is
    checked now, before any image is read.
    """
    scorer = Scorer(single_model_path(path), mode=mode, stride=stride, batch_size=batch_size, pooling=pooling)
    if stride is None:
        scorer.stride = scorer.input_size
    scorer.features_model()
    return scorer


def load_models(source=None) -> tuple[list[keras.Model], list[str]]:
    """Models and their names from a path, a list of paths, a model, or a list of models.

    ``None`` means the shipped ``models/`` folder (see :mod:`iqa_keras.resources`).
    """
    if source is None:
        source = DEFAULT_MODELS_DIR
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    models, names = [], []
    for item in items:
        if isinstance(item, keras.Model):
            if not hasattr(item, "iqa_info"):
                item.iqa_info = infer_info(item)
            models.append(item)
            names.append(item.name)
            continue
        for path in model_files(item):
            models.append(load_model(path))
            names.append(os.path.basename(path))
    if not models:
        raise NoModelsError("no models given")
    return models, names


def as_rgb_image(image, what: str) -> tuple[np.ndarray, str]:
    """A path or an array -> ``((H, W, 3) uint8, label used in error messages)``."""
    if isinstance(image, (str, os.PathLike)):
        return read_image(image), os.fspath(image)
    return to_rgb_uint8(np.asarray(image), source=what), what


def check_same_size(ref: np.ndarray, dist: np.ndarray, ref_name: str, dist_name: str) -> None:
    if ref.shape[:2] != dist.shape[:2]:
        raise ValueError(
            f"reference {ref_name} is {ref.shape[1]}x{ref.shape[0]} but distorted {dist_name} is "
            f"{dist.shape[1]}x{dist.shape[0]} (width x height); a pair must have one size"
        )


@dataclasses.dataclass
class PatchScores:
    """Per-patch scores of one pair (all models of one input size, TTA included)."""

    grid: PatchGrid
    scores: np.ndarray  # (grid.count,)
    reference: np.ndarray  # (H, W, 3) uint8
    distorted: np.ndarray
    weights: np.ndarray | None = None  # (grid.count,) texture weights; None: plain mean
    pooling: str = "mean"
    higher_is_better: bool = True

    @property
    def score(self) -> float:
        """The pair's score: its patch scores pooled as the scorer pools them."""
        return pool_scores(self.pooling, self.scores, self.weights, self.higher_is_better)


class _SizeGroup:
    """The members that share one input size, and the graph that scores their patches."""

    def __init__(self, size: int, models: list[keras.Model], augmentations: Sequence[Augmentation]):
        self.size = size
        self.models = models
        self.batch_fn = _make_batch_fn(models, size, augmentations)


def _model_output(model: keras.Model, ref: tf.Tensor, dist: tf.Tensor) -> tf.Tensor:
    """One score per patch on the model's MOS scale (a histogram's mean score for NIMA models)."""
    info: ModelInfo = model.iqa_info
    inputs = [ref, dist] if info.kind == "fr" else dist
    out = tf.cast(model(inputs, training=False), tf.float32)
    out = histogram_moments(out)[0] if info.kind == "nima" else tf.reshape(out, [-1])
    return info.denormalize(out)


def _make_batch_fn(models: list[keras.Model], size: int, augmentations: Sequence[Augmentation]):
    """``(N, S, S, 3)`` uint8 x2 -> ``(N,)`` float32: mean over models and augmentations."""
    spec = tf.TensorSpec([None, size, size, 3], tf.uint8)
    plain = len(augmentations) == 1 and augmentations[0] == Augmentation()

    def ensemble(ref, dist):
        return tf.add_n([_model_output(m, ref, dist) for m in models]) / float(len(models))

    @tf.function(input_signature=[spec, spec])
    def score_batch(ref, dist):
        ref, dist = tf.cast(ref, tf.float32), tf.cast(dist, tf.float32)
        if plain:
            return ensemble(ref, dist)
        refs, dists = augment_pairs(ref, dist, augmentations)  # (A, N, S, S, 3)
        # One copy at a time: running all A x N patches in one call was measured slower on a 2-core CPU
        # (fr_simple, 22 copies of 8 patches: 1.85 against 2.10 pairs/s; docs/performance.md).
        per_copy = tf.map_fn(
            lambda pair: ensemble(pair[0], pair[1]),
            (refs, dists),
            fn_output_signature=tf.TensorSpec([None], tf.float32),
            parallel_iterations=1,
        )
        return tf.reduce_mean(per_copy, axis=0)

    return score_batch


@dataclasses.dataclass
class _Prepared:
    """One decoded pair and, for every input size, where its patches lie (cut later, a batch at a time)."""

    index: int
    patches: dict[int, tuple]  # size -> (ref ImagePatches, dist ImagePatches)
    pixels: int  # decoded pixels held (reference and distorted)


class Scorer:
    """Scores pairs (full-reference models) or images (no-reference and NIMA models), alone or as an ensemble.

    ``models``: a ``.keras`` path, a folder of them, a Keras model, or a list
    of those (None: the shipped ``models/`` folder). ``tta``: ``"none"``,
    ``"geometric"``, ``"ntire"`` or a custom list (see :mod:`.tta`).
    ``mode``: how an image of any size is fed: ``"patches"`` (average over
    input-size patches covering it), ``"center"`` (the central patch) or
    ``"resize"`` (the whole image resized to the input size).
    ``stride``: patch stride for images larger than the input size (default
    half the input size). ``batch_size``: patches per graph call; every
    augmentation of them is stacked in that call. ``workers``: decoding threads.
    ``feature_layer``: the layer whose output :meth:`outputs` returns as the
    image's features (default "features", else "pooled"). ``pooling``: how
    patch scores become the image's score, ``"mean"`` or ``"texture"`` (see
    :mod:`.pooling`); None: the rule the members' ``ModelInfo`` records.
    ``precision``: ``"float32"`` or ``"bf16"`` (bfloat16 arithmetic on float32
    weights, faster on CPUs with AVX512-BF16; see :mod:`iqa_keras.utils.precision`).
    """

    def __init__(self, models=None, tta="none", stride=None, batch_size: int = 8, workers: int = 2,
                 mode: str = "patches", feature_layer: str | None = None, pooling: str | None = None,
                 precision: str = "float32"):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        self.precision = policy_name(precision)  # checked before any model is read
        self.models, self.model_names = load_models(models)
        for model in self.models:  # a caller's model object is changed only when it computes otherwise
            if not computes_in(model, self.precision):
                set_precision(model, self.precision)
        self.augmentations = resolve_tta(tta)
        self.stride = stride
        self.mode = mode
        self.batch_size = int(batch_size)
        self.workers = max(int(workers), 1)
        self.feature_layer = feature_layer
        self._features_model = None
        for model, name in zip(self.models, self.model_names):
            if model.iqa_info.kind not in ("fr", "nr", "nima"):
                raise ValueError(f"model {name} is a {model.iqa_info.kind!r} model; expected fr, nr or nima")
            _check_outputs(model, name)
        directions = {m.iqa_info.higher_is_better for m in self.models}
        if len(directions) > 1:
            raise ValueError(
                "the ensemble mixes models where higher is better with models where lower is better: "
                + ", ".join(f"{n} ({'higher' if m.iqa_info.higher_is_better else 'lower'})"
                            for m, n in zip(self.models, self.model_names))
            )
        by_size: dict[int, list[keras.Model]] = {}
        for model in self.models:
            by_size.setdefault(int(model.iqa_info.input_size), []).append(model)
        self._groups = [_SizeGroup(size, members, self.augmentations) for size, members in sorted(by_size.items())]
        self.pooling = self._resolve_pooling(pooling)

    @classmethod
    def from_preset(cls, name: str, source=None, **options) -> "Scorer":
        """A scorer of preset ``name`` (see :mod:`iqa_keras.presets`; ``source``: a preset folder, default
        the shipped models), checked against its manifest; ``options`` as for ``Scorer``."""
        from ..presets import from_preset

        return cls(from_preset(name, source), **options)

    @property
    def higher_is_better(self) -> bool:
        return bool(self.models[0].iqa_info.higher_is_better)

    @property
    def input_size(self) -> int:
        """The first member's input size in pixels."""
        return int(self.models[0].inputs[0].shape[1])

    @property
    def full_reference(self) -> bool:
        """True when any member compares a reference with the distorted image."""
        return any(m.iqa_info.kind == "fr" for m in self.models)

    @property
    def info(self) -> ModelInfo:
        """The first member's ``ModelInfo`` (score scale and direction of the ensemble)."""
        return self.models[0].iqa_info

    def scale_description(self) -> str:
        """The score's scale and direction in words, e.g. ``1 to 5, higher is better``."""
        ranges = {tuple(m.iqa_info.score_range) for m in self.models if m.iqa_info.score_range}
        if len(ranges) == 1:
            low, high = next(iter(ranges))
            scale = f"{low:g} to {high:g}"
        else:
            scale = "the training set's score scale (no range recorded)"
        return f"{scale}, {'higher' if self.higher_is_better else 'lower'} is better"

    def describe(self) -> str:
        sizes = ", ".join(f"{g.size} px" for g in self._groups)
        stride = "half the input size" if self.stride is None else f"{self.stride} px"
        return (
            f"{len(self.models)} model(s) ({', '.join(self.model_names)}); input {sizes}; "
            f"TTA {len(self.augmentations)} cop{'y' if len(self.augmentations) == 1 else 'ies'}; "
            f"patch stride {stride}; {self.pooling} pooling"
            + ("" if self.precision == "float32" else "; bfloat16 arithmetic")
        )

    def _resolve_pooling(self, pooling: str | None) -> str:
        """The pooling asked for, else the one every member records (an error when members disagree)."""
        if pooling is not None:
            return check_pooling(pooling)
        recorded = {getattr(m.iqa_info, "pooling", "mean") for m in self.models}
        if len(recorded) > 1:
            raise ValueError(
                "the ensemble's members record different poolings ("
                + ", ".join(f"{n}: {m.iqa_info.pooling}" for m, n in zip(self.models, self.model_names))
                + "); choose one with pooling= (--pooling)"
            )
        return check_pooling(recorded.pop(), "ModelInfo.pooling")

    # ---- public scoring API -------------------------------------------------------------

    def score_pair(self, ref, dist) -> float:
        """The score of one pair (paths or arrays)."""
        return float(self.score_pairs([(ref, dist)])[0])

    def score_image(self, image) -> float:
        """The score of one image (path or array); no-reference members only."""
        return float(self.score_images([image])[0])

    def score_images(self, images: Iterable, progress=None) -> np.ndarray:
        """Scores of many images with no-reference members (no reference is read)."""
        if self.full_reference:
            raise ValueError("scoring an image alone needs no-reference models; these compare a reference: "
                             + ", ".join(n for m, n in zip(self.models, self.model_names) if m.iqa_info.kind == "fr"))
        return self.score_pairs([(None, image) for image in images], progress=progress)

    def score_pairs(self, pairs: Iterable[tuple], progress=None) -> np.ndarray:
        """Scores of many pairs, in order; ``progress(done)`` is called after each pair."""
        scores = []
        for score in self.iter_scores(pairs):
            scores.append(score)
            if progress is not None:
                progress(len(scores))
        return np.asarray(scores, dtype=np.float64)

    def iter_scores(self, pairs: Iterable[tuple]) -> Iterator[float]:
        """Yields each pair's score in order, decoding ahead of the model work."""
        pairs = list(pairs)
        pending: collections.deque = collections.deque()
        buffers = {g.size: _PatchBuffer(g.size) for g in self._groups}
        collected = _Collected(len(self._groups))
        remaining = np.zeros((len(pairs), len(self._groups)), dtype=np.int64)
        next_to_yield = 0
        lookahead = max(2 * self.batch_size, 2 * self.workers)
        ahead = self.workers  # pairs decoded ahead; set from the image size once one is known
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="iqa-decode")
        try:
            submitted = 0
            for consumed in range(len(pairs)):
                while submitted < len(pairs) and submitted - consumed < ahead:
                    pending.append(pool.submit(self._prepare, submitted, *pairs[submitted]))
                    submitted += 1
                prepared: _Prepared = pending.popleft().result()
                ahead = int(np.clip(DECODE_AHEAD_PIXELS // max(prepared.pixels, 1), 1, lookahead))
                for g, group in enumerate(self._groups):
                    ref_patches, dist_patches = prepared.patches[group.size]
                    remaining[prepared.index, g] = dist_patches.count
                    buffers[group.size].add(prepared.index, ref_patches, dist_patches)
                    self._run_full_batches(g, buffers[group.size], collected, remaining, final=False)
                del prepared
                while next_to_yield < len(pairs) and next_to_yield <= consumed and not remaining[next_to_yield].any():
                    yield self._combine(collected.pop(next_to_yield))
                    next_to_yield += 1
            for g, group in enumerate(self._groups):
                self._run_full_batches(g, buffers[group.size], collected, remaining, final=True)
            while next_to_yield < len(pairs):
                yield self._combine(collected.pop(next_to_yield))
                next_to_yield += 1
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def patch_scores(self, ref, dist) -> PatchScores:
        """Per-patch scores of one pair, for quality maps (members must share one input size)."""
        if len(self._groups) != 1:
            raise ValueError(
                "per-patch scores need ensemble members of one input size; got "
                + ", ".join(str(g.size) for g in self._groups)
            )
        group = self._groups[0]
        ref_image, ref_name = as_rgb_image(ref, "reference")
        dist_image, dist_name = as_rgb_image(dist, "distorted")
        check_same_size(ref_image, dist_image, ref_name, dist_name)
        grid = patch_grid(*ref_image.shape[:2], group.size, self.stride)
        ref_patches, dist_patches = ImagePatches(ref_image, grid), ImagePatches(dist_image, grid)
        scores, weights = [], []
        for i in range(0, grid.count, self.batch_size):
            ref_batch = ref_patches.take(i, min(i + self.batch_size, grid.count))
            scores.append(group.batch_fn(ref_batch, dist_patches.take(i, min(i + self.batch_size, grid.count))).numpy())
            weights.append(patch_weights(self.pooling, ref_batch))
        return PatchScores(grid=grid, scores=np.concatenate(scores).astype(np.float64), reference=ref_image,
                           distorted=dist_image, weights=np.concatenate(weights), pooling=self.pooling,
                           higher_is_better=self.higher_is_better)

    # ---- one no-reference model: raw outputs and features ----------------------------------

    def _single_no_reference_model(self) -> keras.Model:
        if len(self.models) != 1 or self.full_reference:
            raise ValueError("outputs and features need exactly one no-reference (NR or NIMA) model; got "
                             + ", ".join(f"{n} ({m.iqa_info.kind})" for m, n in zip(self.models, self.model_names)))
        return self.models[0]

    def features_model(self) -> keras.Model:
        """The model with its feature layer as a second output (built once)."""
        if self._features_model is None:
            from ..architectures.nima import feature_layer_name

            model = self._single_no_reference_model()
            layer = self.feature_layer or feature_layer_name(model)
            try:
                features = model.get_layer(layer).output
            except ValueError:
                raise ValueError(f"{self.model_names[0]}: no layer named {layer!r} for the feature distance") from None
            self.feature_layer = layer
            self._features_model = keras.Model(model.inputs, [model.outputs[0], features])
        return self._features_model

    def outputs(self, image) -> tuple[np.ndarray, np.ndarray]:
        """(model output, feature vector) of one image (path or RGB array), each averaged over its patches.

        The output is the raw network output: the 10-bin histogram of a NIMA
        model, the standardised score of a regression head. No test-time
        augmentation is applied here.
        """
        both = self.features_model()
        image, _ = as_rgb_image(image, "image")
        patches = self.patch_source(image, int(both.inputs[0].shape[1]))
        outs, feats = [], []
        for start in range(0, patches.count, self.batch_size):
            batch = patches.take(start, min(start + self.batch_size, patches.count)).astype(np.float32)
            count = len(batch)
            if count < self.batch_size:  # one batch shape for every call: no re-tracing
                batch = np.concatenate([batch, np.zeros((self.batch_size - count, *batch.shape[1:]), batch.dtype)])
            out, feat = both.predict_on_batch(batch)
            outs.append(np.asarray(out, np.float64)[:count])
            feats.append(np.asarray(feat, np.float64)[:count])
        return np.concatenate(outs).mean(axis=0), np.concatenate(feats).mean(axis=0)

    def output_fields(self, output: np.ndarray) -> dict:
        """Fields of one raw output: ``score`` on the MOS scale, and for a histogram its mean, std and bins."""
        info = self._single_no_reference_model().iqa_info
        output = np.asarray(output, dtype=np.float64)
        if output.size == 1:
            return {"score": float(info.denormalize(float(output.reshape(-1)[0])))}
        p = output / output.sum()
        mean, std = histogram_moments(p[None])
        row = {"score": float(info.denormalize(float(mean[0]))), "mean": float(mean[0]), "std": float(std[0])}
        row.update({f"hist_{i}": float(v) for i, v in enumerate(p, start=1)})
        return row

    def feature_distance(self, ref, dist) -> float:
        """Cosine distance between the pooled features of two images (0: the same direction)."""
        return cosine_distance(self.outputs(ref)[1], self.outputs(dist)[1])

    # ---- internals ------------------------------------------------------------------------

    def _prepare(self, index: int, ref, dist) -> _Prepared:
        dist_image, dist_name = as_rgb_image(dist, f"distorted #{index}")
        if ref is None:  # no-reference members only: the distorted image stands in for the reference input
            ref_image = dist_image
        else:
            ref_image, ref_name = as_rgb_image(ref, f"reference #{index}")
            check_same_size(ref_image, dist_image, ref_name, dist_name)
        patches = {}
        for group in self._groups:
            dist_patches = self.patch_source(dist_image, group.size)
            ref_patches = dist_patches if ref_image is dist_image else self.patch_source(ref_image, group.size)
            patches[group.size] = (ref_patches, dist_patches)
        pixels = dist_image.shape[0] * dist_image.shape[1] * (1 if ref_image is dist_image else 2)
        return _Prepared(index=index, patches=patches, pixels=pixels)

    def patch_source(self, image: np.ndarray, size: int):
        """The inputs of one image under the scorer's ``mode``, cut on demand (``count``, ``take(start, stop)``)."""
        if self.mode == "resize":
            from PIL import Image

            resized = Image.fromarray(image).resize((size, size), Image.BILINEAR)
            return StackedPatches(np.asarray(resized, dtype=np.uint8)[None])
        if self.mode == "center":
            return StackedPatches(fit_to_size_numpy(image, size)[None])
        return ImagePatches(image, patch_grid(*image.shape[:2], size, self.stride))

    def image_patches(self, image: np.ndarray, size: int) -> np.ndarray:
        """``(N, size, size, 3)`` uint8 inputs of one image under the scorer's ``mode``, all at once."""
        source = self.patch_source(image, size)
        return source.take(0, source.count)

    def _run_full_batches(self, g: int, buffer: "_PatchBuffer", collected: "_Collected", remaining,
                          final: bool) -> None:
        group = self._groups[g]
        while len(buffer) >= self.batch_size or (final and len(buffer)):
            owners, ref_batch, dist_batch = buffer.take(self.batch_size)
            scores = group.batch_fn(ref_batch, dist_batch).numpy().astype(np.float64)
            # A no-reference pair's "reference" patches are its distorted ones (see _prepare).
            collected.add(g, owners, scores, patch_weights(self.pooling, ref_batch))
            np.subtract.at(remaining[:, g], owners, 1)

    def _combine(self, per_group: list) -> float:
        """Ensemble mean: every member weighs the same; a member's score is its pooled patch score."""
        weighted = sum(len(group.models) * pool_scores(self.pooling, scores, weights, self.higher_is_better)
                       for group, (scores, weights) in zip(self._groups, per_group))
        return float(weighted / len(self.models))


class _Collected:
    """Patch scores and pooling weights of the pairs not yet pooled, per pair and input-size group."""

    def __init__(self, groups: int):
        self.groups = groups
        self.parts: dict[int, list] = {}

    def add(self, g: int, owners: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> None:
        for owner in np.unique(owners):
            mine = owners == owner
            entry = self.parts.setdefault(int(owner), [[] for _ in range(self.groups)])
            entry[g].append((scores[mine], weights[mine]))

    def pop(self, owner: int) -> list:
        """``[(scores, weights)]`` per group for one pair, in patch order; forgets the pair."""
        entry = self.parts.pop(owner)
        return [(np.concatenate([s for s, _ in part]), np.concatenate([w for _, w in part])) for part in entry]


def cosine_distance(a, b) -> float:
    """``1 - a.b / (|a| |b|)``; 0 for identical directions (1 when a vector is zero)."""
    a, b = np.ravel(np.asarray(a, np.float64)), np.ravel(np.asarray(b, np.float64))
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 1.0 if norm == 0 else float(1.0 - np.dot(a, b) / norm)


def _check_outputs(model: keras.Model, name: str) -> None:
    """One output: a score per sample (``(N,)`` or ``(N, 1)``) or, for a NIMA model, a 10-bin histogram."""
    outputs = model.outputs or []
    if len(outputs) != 1:
        raise ValueError(f"model {name} has {len(outputs)} outputs; the Scorer needs a model with one output "
                         "(a score per sample, or a 10-bin histogram for NIMA models)")
    kind = model.iqa_info.kind
    shape = tuple(outputs[0].shape)
    if any(d is None for d in shape[1:]):
        return  # a width known only at run time: nothing to check now
    width = int(np.prod(shape[1:], dtype=np.int64))
    expected = 10 if kind == "nima" else 1
    if width != expected:
        raise ValueError(f"model {name} ({kind}) outputs shape {shape}; expected "
                         + ("a 10-bin histogram (N, 10)" if kind == "nima" else "one score per sample (N, 1)"))


class _PatchBuffer:
    """Patches waiting for a full batch: which pair they belong to and where they lie, not copies.

    ``take`` copies just the patches of one batch out of the waiting pairs'
    images, so each patch is copied once and the time per batch does not
    grow with the number of patches waiting.
    """

    def __init__(self, size: int):
        self.size = size
        self.waiting: collections.deque = collections.deque()  # [owner, ref patches, dist patches, next index]
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, owner: int, refs, dists) -> None:
        if dists.count:
            self.waiting.append([owner, refs, dists, 0])
            self._size += dists.count

    def take(self, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        count = min(count, self._size)
        owners = np.empty(count, dtype=np.int64)
        refs = np.empty((count, self.size, self.size, 3), dtype=np.uint8)
        dists = np.empty_like(refs)
        filled = 0
        while filled < count:
            entry = self.waiting[0]
            owner, ref_patches, dist_patches, start = entry
            stop = min(start + count - filled, dist_patches.count)
            ref_patches.take(start, stop, out=refs[filled : filled + stop - start])
            dist_patches.take(start, stop, out=dists[filled : filled + stop - start])
            owners[filled : filled + stop - start] = owner
            filled += stop - start
            if stop == dist_patches.count:
                self.waiting.popleft()  # the pair's images are released here
            else:
                entry[3] = stop
        self._size -= count
        return owners, refs, dists


__all__ = ["MODES", "ImageReadError", "NoModelsError", "PatchScores", "Scorer", "cosine_distance", "load_models",
           "model_files", "no_reference_scorer", "single_model_path"]
