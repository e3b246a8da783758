"""Config text files (TOML) -> validated dataclasses.

A config names everything a run needs: model, loss, datasets, augmentation,
optimizer, training schedule and output folder. Unknown keys, wrong types and
missing required values are errors that name the file and the key, so a typo
never silently falls back to a default. ``--set section.key=value`` overrides
use the same checks.
"""
from __future__ import annotations

import dataclasses
import inspect
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Optional, Union

from . import architectures, losses  # noqa: F401  (registration of the builders and losses checked here)
from .data import readers  # noqa: F401  (registration of the dataset sources checked here)
from .registry import ARCHITECTURES, DATASETS, LOSSES
from .scales import dataset_scale


class ConfigError(ValueError):
    """A config file or override is invalid; the message names file and key."""


@dataclasses.dataclass
class ModelSection:
    """``[model]``: the architecture and its hyper-parameters (any other key)."""

    architecture: str = "fr_simple"
    input_size: int = 288
    hyper_parameters: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class LossSection:
    """``[loss]``: a registered loss name and its keyword options (any other key)."""

    name: str = "fr_loss"
    options: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class DatasetSection:
    """One ``[[data.datasets]]`` entry.

    ``split``: "auto" (the dataset's official split when it has one, else a
    seeded split by content), "official", "content", or one of
    "train"/"val"/"test" to use the whole dataset for that role.
    ``score_norm``: "auto" (mean/std of its training split), "none", or
    ``[mean, std]`` as in the NTIRE 2021 reference's configs.
    ``crop``: "center", "random" (training only; validation is centred), "pad".
    ``resize``: side every image is resized to before the crop (the NIMA paper's
    256 before a 224 crop), or None to crop the image as it is.
    ``options``: keyword arguments of the dataset's reader (e.g. ``size`` of
    the embedded set, ``aggregate`` of PieAPP).
    """

    name: str = "embedded"
    root: Optional[str] = None
    db: Optional[str] = None
    split: str = "auto"
    fractions: dict = dataclasses.field(default_factory=lambda: {"train": 0.8, "val": 0.2})
    score_norm: Union[str, list] = "auto"
    crop: str = "center"
    resize: Optional[int] = None
    options: dict = dataclasses.field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.db or self.name


@dataclasses.dataclass
class DataSection:
    """``[data]``: the datasets (the embedded synthetic set when none is named)."""

    datasets: list = dataclasses.field(default_factory=lambda: [DatasetSection()])
    seed: int = 0
    cache_dir: Optional[str] = None


@dataclasses.dataclass
class AugmentSection:
    """``[augment]``: paired augmentation of the training pairs.

    ``lightness``: [low, high] range of the CIE-Lab L scale factor, or [] for none.
    ``lightness_policy``: "on_the_fly" (a new factor for every pair at every
    epoch) or "offline_copy" (the NTIRE 2021 reference's: one extra copy of each
    training pair with a factor drawn once, so an epoch is twice the pairs).
    """

    enabled: bool = True
    rot90: bool = True
    flip_lr: bool = True
    flip_ud: bool = True
    lightness: list = dataclasses.field(default_factory=lambda: [0.3, 1.5])
    lightness_policy: str = "on_the_fly"


@dataclasses.dataclass
class OptimizerSection:
    """``[optimizer]``: Adam with step decay (lr x decay_factor every decay_every epochs).

    ``decay_offset`` = 1 counts epochs from 1 for the decay (the NTIRE 2021
    reference's ``floor((1 + epoch) / decay_every)``). ``phases``: a list of
    ``{epochs, learning_rate}`` tables that replaces the step decay with
    piecewise-constant rates (the last rate continues).
    """

    name: str = "adam"
    learning_rate: float = 1e-4
    decay_factor: float = 0.1
    decay_every: int = 10
    decay_offset: int = 0
    phases: list = dataclasses.field(default_factory=list)
    clipnorm: Optional[float] = None
    # NIMA (a model with a "backbone" layer): the backbone's rate; learning_rate is then the head's.
    backbone_learning_rate: Optional[float] = None


@dataclasses.dataclass
class TrainSection:
    """``[train]``: schedule, seed, checkpoint monitor, stages and distribution."""

    epochs: int = 30
    batch_size: int = 16
    seed: int = 0
    monitor: str = "val_main"
    monitor_mode: str = "max"
    early_stopping_patience: int = 0
    initial_weights: Optional[str] = None
    strategy: str = "default"
    steps_per_epoch: Optional[int] = None  # None: one pass over the training pairs
    verbose: int = 2
    freeze_backbone_epochs: int = 0  # NIMA: first epochs with the backbone frozen (its rate 0)
    precision: str = "float32"  # "mixed_bfloat16": bfloat16 arithmetic on float32 weights (utils.precision)
    tensorboard: bool = False  # TensorBoard logs (the epoch logs, validation SRCC/PLCC included) in RUN/tensorboard


@dataclasses.dataclass
class NimaSection:
    """``[nima]``: targets of NIMA histogram models (architecture "nima"; see ``data.histogram_targets``).

    ``targets``: "auto" (AVA-style vote counts when present, else the maximum-entropy
    histogram of mos and mos_std, else of mos alone), "votes", "max_entropy",
    "max_entropy_mean", "gaussian". ``ranges``: ``{dataset = [low, high(, higher_is_better)]}``
    overriding the built-in MOS range -> bins 1..10 map. ``std_scale`` multiplies mos_std;
    ``threshold``: the binary-accuracy threshold on the 1..10 mean score.
    """

    targets: str = "auto"
    ranges: dict = dataclasses.field(default_factory=dict)
    std_scale: float = 1.0
    threshold: float = 5.0


@dataclasses.dataclass
class OutputSection:
    """``[output]``: where the run folder goes, how often scatter plots are drawn, and the saved model's pooling.

    ``pooling``: how a scorer pools the saved model's patch scores on larger
    images (``"mean"``, ``"texture"`` or ``"worst30"``; see
    :mod:`iqa_keras.scoring.pooling`), recorded in its ``ModelInfo``.
    """

    dir: Optional[str] = None
    plot_every: int = 1
    pooling: str = "mean"


@dataclasses.dataclass
class Config:
    model: ModelSection = dataclasses.field(default_factory=ModelSection)
    loss: LossSection = dataclasses.field(default_factory=LossSection)
    data: DataSection = dataclasses.field(default_factory=DataSection)
    augment: AugmentSection = dataclasses.field(default_factory=AugmentSection)
    optimizer: OptimizerSection = dataclasses.field(default_factory=OptimizerSection)
    train: TrainSection = dataclasses.field(default_factory=TrainSection)
    output: OutputSection = dataclasses.field(default_factory=OutputSection)
    nima: NimaSection = dataclasses.field(default_factory=NimaSection)
    source: str = "<defaults>"
    text: str = ""

    @property
    def labels(self) -> list[str]:
        """The datasets' labels in config order (a dataset's index in the bias-aware loss)."""
        return [section.label for section in self.data.datasets]

    @property
    def task(self) -> str:
        """What the run trains: "histogram" (a NIMA head), "bias_aware" (several biased datasets) or "score"."""
        if self.model.architecture in HISTOGRAM_ARCHITECTURES:
            return "histogram"
        if self.loss.name == "bias_aware":
            return "bias_aware"
        return "score"

    @property
    def image_only(self) -> bool:
        """True for no-reference heads trained on single images (references are dropped)."""
        return self.model.architecture in IMAGE_ONLY_ARCHITECTURES

    def histogram_scales(self) -> dict:
        """``{label: ScoreScale}``: each dataset's score range mapped onto the histogram bins 1..10."""
        scales = {}
        for index, dataset in enumerate(self.data.datasets):
            override = self.nima.ranges.get(dataset.label, self.nima.ranges.get(dataset.name))
            try:
                scales[dataset.label] = dataset_scale(dataset.name, override)
            except ValueError as error:
                raise ConfigError(f"{self.source}: data.datasets[{index}] ({dataset.label}): {error}") from None
        return scales

    def anchor_label(self) -> str:
        """The dataset whose score scale the network's output is on: the bias-aware anchor, else the first."""
        anchor = self.loss.options.get("anchor_db") if self.loss.name == "bias_aware" else None
        if isinstance(anchor, int) and not isinstance(anchor, bool):
            return self.labels[anchor]
        return anchor or self.labels[0]

    def run_dir(self) -> Path:
        if self.output.dir:
            return Path(self.output.dir)
        stem = Path(self.source).stem if self.source != "<defaults>" else "run"
        return Path("runs") / stem

    def to_dict(self) -> dict:
        raw = dataclasses.asdict(self)
        raw.pop("source"), raw.pop("text")
        raw["model"] = {"architecture": self.model.architecture, "input_size": self.model.input_size,
                        **self.model.hyper_parameters}
        raw["loss"] = {"name": self.loss.name, **self.loss.options}
        return raw


# Architectures whose output is a 10-bin score histogram, and the losses that compare histograms.
HISTOGRAM_ARCHITECTURES = ("nima",)
HISTOGRAM_LOSSES = ("nima", "emd", "chi_square", "moments_mse")
# No-reference heads: the records lose their references, the pipelines yield single images.
POOLING_RULES = ("mean", "texture", "worst30")  # patch poolings of iqa_keras.scoring.pooling
IMAGE_ONLY_ARCHITECTURES = ("nima", "nima_regression")

SECTIONS = {
    "model": ModelSection,
    "loss": LossSection,
    "data": DataSection,
    "augment": AugmentSection,
    "optimizer": OptimizerSection,
    "train": TrainSection,
    "output": OutputSection,
    "nima": NimaSection,
}
# Sections whose unknown keys are collected as free options, checked later
# against the builder's or the loss's signature.
OPEN_SECTIONS = {"model": "hyper_parameters", "loss": "options"}
CHOICES = {
    "train.strategy": ("default", "mirrored", "multi_worker"),
    "train.monitor_mode": ("max", "min"),
    "train.precision": ("float32", "mixed_bfloat16"),
    "optimizer.name": ("adam",),
    "dataset.split": ("auto", "official", "content", "train", "val", "test"),
    "dataset.crop": ("center", "random", "pad"),
    "augment.lightness_policy": ("on_the_fly", "offline_copy"),
    "nima.targets": ("auto", "votes", "max_entropy", "max_entropy_mean", "gaussian"),
}


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _matches(value: Any, hint) -> bool:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list or hint is list:
        return isinstance(value, list)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    return isinstance(value, hint)


def _build(cls, table: dict, where: str, source: str, open_field: str | None = None):
    """Fills dataclass ``cls`` from a TOML table, checking keys and types."""
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: {where}: expected a table, got {type(table).__name__}")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls) if f.name != open_field]
    values, extra = {}, {}
    for key, value in table.items():
        key_path = f"{where}.{key}" if where else key
        if key not in known:
            if open_field:
                extra[key] = value
                continue
            raise ConfigError(
                f"{source}: {key_path}: unknown key; expected one of: {', '.join(known)}"
            )
        if cls is DataSection and key == "datasets":
            if not isinstance(value, list) or not value:
                raise ConfigError(f"{source}: {key_path}: expected a non-empty array of tables")
            value = [
                _build(DatasetSection, item, f"{key_path}[{i}]", source) for i, item in enumerate(value)
            ]
        elif not _matches(value, hints[key]):
            raise ConfigError(
                f"{source}: {key_path}: expected {_type_name(hints[key])}, got {value!r}"
            )
        elif hints[key] is float and value is not None:
            value = float(value)
        values[key] = value
    if open_field:
        values[open_field] = extra
    return cls(**values)


def _check_choices(config: Config) -> None:
    src = config.source
    for dotted, allowed in CHOICES.items():
        section, key = dotted.split(".")
        targets = (
            [(f"data.datasets[{i}].{key}", d) for i, d in enumerate(config.data.datasets)]
            if section == "dataset"
            else [(dotted, getattr(config, section))]
        )
        for where, obj in targets:
            if getattr(obj, key) not in allowed:
                raise ConfigError(
                    f"{src}: {where}: expected one of {', '.join(allowed)}, got {getattr(obj, key)!r}"
                )
    for i, ds in enumerate(config.data.datasets):
        where = f"data.datasets[{i}]"
        norm = ds.score_norm
        if isinstance(norm, str) and norm not in ("auto", "none"):
            raise ConfigError(f"{src}: {where}.score_norm: expected \"auto\", \"none\" or [mean, std], got {norm!r}")
        if isinstance(norm, list) and (len(norm) != 2 or not all(_matches(v, float) for v in norm) or norm[1] <= 0):
            raise ConfigError(f"{src}: {where}.score_norm: expected [mean, std] with std > 0, got {norm!r}")
        bad = set(ds.fractions) - {"train", "val", "test"}
        if bad or not ds.fractions or any(not _matches(v, float) or v < 0 for v in ds.fractions.values()):
            raise ConfigError(f"{src}: {where}.fractions: expected {{train = f, val = f[, test = f]}}, got {ds.fractions!r}")
        if abs(sum(ds.fractions.values()) - 1.0) > 1e-6:
            raise ConfigError(f"{src}: {where}.fractions: must sum to 1, got {ds.fractions!r}")
    labels = [ds.label for ds in config.data.datasets]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"{src}: data.datasets: two datasets share the label {labels}; set `db` to tell them apart")
    positive = {"train.epochs": config.train.epochs, "train.batch_size": config.train.batch_size,
                "model.input_size": config.model.input_size, "optimizer.learning_rate": config.optimizer.learning_rate}
    for where, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{src}: {where}: expected a positive number, got {value!r}")
    if config.optimizer.backbone_learning_rate is not None and config.optimizer.backbone_learning_rate < 0:
        raise ConfigError(f"{src}: optimizer.backbone_learning_rate: expected >= 0, "
                          f"got {config.optimizer.backbone_learning_rate}")
    counts = {"train.steps_per_epoch": (config.train.steps_per_epoch, 1), "output.plot_every": (config.output.plot_every, 1),
              "train.early_stopping_patience": (config.train.early_stopping_patience, 0)}
    for where, (value, least) in counts.items():
        if value is not None and value < least:
            raise ConfigError(f"{src}: {where}: expected an integer >= {least}, got {value!r}")
    if config.train.freeze_backbone_epochs < 0:
        raise ConfigError(f"{src}: train.freeze_backbone_epochs: expected >= 0, got {config.train.freeze_backbone_epochs}")
    _check_schedule_and_sizes(config)
    if config.output.pooling not in POOLING_RULES:
        raise ConfigError(f"{src}: output.pooling: expected one of {', '.join(POOLING_RULES)}, "
                          f"got {config.output.pooling!r}")
    if config.augment.lightness and (len(config.augment.lightness) != 2 or not 0 < config.augment.lightness[0] <= config.augment.lightness[1]):
        raise ConfigError(f"{src}: augment.lightness: expected [low, high] with 0 < low <= high, or [], got {config.augment.lightness!r}")


def monitor_names(config: Config) -> list[str]:
    """The epoch-log figures a run of ``config`` writes, which ``train.monitor`` may name."""
    names = ["val_main", "val_srcc", "val_plcc", "val_krcc", "val_rmse", "val_loss", "loss", "lr"]
    if len(config.data.datasets) > 1:
        names += [f"val_{label}_{figure}" for label in config.labels for figure in ("srcc", "plcc", "krcc", "rmse")]
    if config.optimizer.backbone_learning_rate is not None or config.train.freeze_backbone_epochs:
        names.append("backbone_lr")
    if config.task == "bias_aware":
        names += ["train_r", *(f"train_r_{label}" for label in config.labels)]
    return names


def _check_monitor(config: Config) -> None:
    names = monitor_names(config)
    is_bias = config.task == "bias_aware" and config.train.monitor.startswith("bias_")
    if config.train.monitor not in names and not is_bias:
        raise ConfigError(f"{config.source}: train.monitor: {config.train.monitor!r} is not a figure this run logs; "
                          f"expected one of: {', '.join(names)}")

def _check_schedule_and_sizes(config: Config) -> None:
    """``optimizer.decay_offset``, ``optimizer.phases`` and each dataset's ``resize``."""
    src = config.source
    if config.optimizer.decay_offset < 0:
        raise ConfigError(f"{src}: optimizer.decay_offset: expected 0 or more, got {config.optimizer.decay_offset}")
    for index, phase in enumerate(config.optimizer.phases):
        where = f"{src}: optimizer.phases[{index}]"
        if not isinstance(phase, dict) or set(phase) != {"epochs", "learning_rate"}:
            raise ConfigError(f"{where}: expected {{ epochs = n, learning_rate = r }}, got {phase!r}")
        if not _matches(phase["epochs"], int) or phase["epochs"] <= 0:
            raise ConfigError(f"{where}.epochs: expected a positive integer, got {phase['epochs']!r}")
        if not _matches(phase["learning_rate"], float) or phase["learning_rate"] <= 0:
            raise ConfigError(f"{where}.learning_rate: expected a positive number, got {phase['learning_rate']!r}")
    for index, dataset in enumerate(config.data.datasets):
        if dataset.resize is not None and dataset.resize < config.model.input_size:
            raise ConfigError(f"{src}: data.datasets[{index}].resize: expected at least model.input_size "
                              f"({config.model.input_size}), got {dataset.resize}")


def _check_signatures(config: Config) -> None:
    """Dataset sources must exist; model hyper-parameters and loss options must be accepted by their builders."""
    src = config.source
    for index, dataset in enumerate(config.data.datasets):
        if str(dataset.name).lower() not in DATASETS:
            raise ConfigError(f"{src}: data.datasets[{index}].name: unknown dataset {dataset.name!r}; "
                              f"known: {', '.join(DATASETS.names())}")
    try:
        builder = ARCHITECTURES.get(config.model.architecture)
    except ValueError as error:
        raise ConfigError(f"{src}: model.architecture: {error}") from None
    accepted = set(inspect.signature(builder).parameters) - {"input_size"}
    for key in config.model.hyper_parameters:
        if key not in accepted:
            raise ConfigError(
                f"{src}: model.{key}: unknown hyper-parameter of {config.model.architecture}; "
                f"expected one of: architecture, input_size, {', '.join(sorted(accepted))}"
            )
    try:
        loss_cls = LOSSES.get(config.loss.name)
    except ValueError as error:
        raise ConfigError(f"{src}: loss.name: {error}") from None
    params = inspect.signature(loss_cls).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        accepted = set(params) - {"name", "reduction", "dtype"}
        for key in config.loss.options:
            if key not in accepted:
                raise ConfigError(
                    f"{src}: loss.{key}: unknown option of loss {config.loss.name}; "
                    f"expected one of: name, {', '.join(sorted(accepted))}"
                )


def _resolve_task_defaults(config: Config, raw: dict) -> None:
    """Defaults and checks that depend on what the run trains (histogram head, bias-aware loss)."""
    src = config.source
    if config.task == "histogram":
        if "loss" not in raw:  # no [loss] section: NIMA's own loss, EMD with r = 2
            config.loss = LossSection(name="nima")
        if config.loss.name not in HISTOGRAM_LOSSES:
            raise ConfigError(
                f"{src}: loss.name: {config.loss.name!r} compares one score per image; the NIMA histogram "
                f"head needs one of {', '.join(HISTOGRAM_LOSSES)} (\"nima\" = EMD r = 2 + optional regularisers)"
            )
        config.histogram_scales()  # every dataset needs a known (or configured) score range
        names = {d.name for d in config.data.datasets} | set(config.labels)
        unknown = sorted(set(config.nima.ranges) - names)
        if unknown:
            raise ConfigError(f"{src}: nima.ranges: {unknown} name no dataset of the config")
    if config.loss.name == "bias_aware":
        config.loss.options = _bias_loss_options(config)


def _bias_loss_options(config: Config) -> dict:
    """The ``bias_aware`` loss's options completed from the config.

    ``datasets`` = the dataset labels in config order, and ``anchor_db``
    defaults to the first dataset (whose score normalisation the saved model
    uses). An unknown ``anchor_db`` or a ``datasets`` option that is not the
    config's labels is an error naming the key.
    """
    labels = config.labels
    options = dict(config.loss.options)
    given = options.setdefault("datasets", labels)
    if list(given) != labels:
        raise ConfigError(
            f"{config.source}: loss.datasets: must be the labels of data.datasets in order, {labels}, "
            f"got {given!r} (leave it out to use them)"
        )
    anchor = options.setdefault("anchor_db", labels[0])
    known = f"known labels: {', '.join(labels)}"
    if isinstance(anchor, bool) or not isinstance(anchor, (str, int)):
        raise ConfigError(f"{config.source}: loss.anchor_db: expected a dataset label, got {anchor!r}; {known}")
    if isinstance(anchor, int) and not 0 <= anchor < len(labels):
        raise ConfigError(f"{config.source}: loss.anchor_db: index {anchor} out of range; {known}")
    if isinstance(anchor, str) and anchor not in labels and anchor != "":
        raise ConfigError(f"{config.source}: loss.anchor_db: {anchor!r} is not a dataset of the config; {known}")
    if len(labels) > int(options.get("max_datasets", 16)):
        raise ConfigError(
            f"{config.source}: loss.max_datasets: {len(labels)} datasets need max_datasets >= {len(labels)}"
        )
    return options


def _parse_value(text: str) -> Any:
    """An override value: TOML syntax (``3``, ``1e-4``, ``[1, 2]``, ``true``) or a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(raw: dict, assignment: str, source: str = "--set") -> None:
    """Applies ``section.key=value`` (or ``data.datasets.0.root=...``) to a raw table."""
    if "=" not in assignment:
        raise ConfigError(f"{source} {assignment!r}: expected section.key=value")
    dotted, text = assignment.split("=", 1)
    parts = dotted.strip().split(".")
    if len(parts) < 2:
        raise ConfigError(f"{source} {assignment!r}: expected section.key=value")
    node: Any = raw
    for i, part in enumerate(parts):
        here = ".".join(parts[:i])
        if isinstance(node, list):
            if not part.isdigit():
                raise ConfigError(f"{source} {dotted}: {here} is an array of tables; name one by its index, "
                                  f"e.g. {here}.0.{'.'.join(parts[i:])}")
            if int(part) >= len(node):
                raise ConfigError(f"{source} {dotted}: index {part} out of range; {here} has {len(node)} entries")
            if i == len(parts) - 1:
                hint = (f"a key after the index, e.g. {dotted}.root" if isinstance(node[int(part)], dict)
                        else f"the whole array, e.g. {here}=[...]")
                raise ConfigError(f"{source} {dotted}: cannot set one element of {here}; expected {hint}")
            node = node[int(part)]
        elif not isinstance(node, dict):
            raise ConfigError(f"{source} {dotted}: {here} is a value ({node!r}), not a table with keys")
        elif i == len(parts) - 1:
            node[part] = _parse_value(text.strip())
        else:
            if part == "datasets" and "datasets" not in node:
                node["datasets"] = [{}]
            node = node.setdefault(part, {})


def config_from_dict(raw: dict, source: str = "<dict>", text: str = "") -> Config:
    """Builds and validates a Config from an already-parsed table."""
    values = {}
    for key, table in raw.items():
        if key not in SECTIONS:
            raise ConfigError(f"{source}: [{key}]: unknown section; expected one of: {', '.join(SECTIONS)}")
        values[key] = _build(SECTIONS[key], table, key, source, OPEN_SECTIONS.get(key))
    config = Config(**values, source=source, text=text)
    _check_choices(config)
    _resolve_task_defaults(config, raw)
    _check_signatures(config)
    _check_monitor(config)
    _check_tensorboard(config)
    return config


def _check_tensorboard(config: Config) -> None:
    """``train.tensorboard`` needs the tensorboard package (TensorFlow's summaries are written through it)."""
    import importlib.util

    if config.train.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ConfigError(
            f"{config.source}: train.tensorboard = true needs the tensorboard package, which is not installed: "
            "pip install \"iqa_keras[tensorboard]\" (or pip install tensorboard)")


def load_config(path: str | os.PathLike, overrides: list[str] | None = None) -> Config:
    """Reads a TOML config file (or a bundled config by name, e.g. ``demo_fr_simple``) and applies ``--set`` overrides."""
    path = Path(path)
    if not path.is_file():
        from .resources import bundled_config, bundled_configs

        name = path.as_posix()
        bundled = bundled_config(name[len("configs/"):] if name.startswith("configs/") else name)
        if bundled is None:
            names = ", ".join(bundled_configs()) or "none found"
            raise ConfigError(f"config file not found: {path} (nor a bundled config of that name; bundled: {names})")
        path = bundled
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    recorded = _recorded_overrides(text)  # a run folder's config.toml: the --set values it ran with
    for assignment in recorded:
        apply_override(raw, assignment, source=f"{path}: recorded --set")
    for assignment in overrides or []:
        apply_override(raw, assignment)
    if overrides:
        if OVERRIDES_HEADER not in text:
            text += f"\n{OVERRIDES_HEADER}\n"
        elif not text.endswith("\n"):
            text += "\n"
        text += "".join(f"{OVERRIDE_PREFIX}{a}\n" for a in overrides)
    return config_from_dict(raw, source=str(path), text=text)


def _recorded_overrides(text: str) -> list[str]:
    """The ``# --set`` lines after :data:`OVERRIDES_HEADER` (how a run folder's config.toml records them)."""
    tail = text.split(OVERRIDES_HEADER, 1)[1] if OVERRIDES_HEADER in text else ""
    return [line[len(OVERRIDE_PREFIX):] for line in tail.splitlines() if line.startswith(OVERRIDE_PREFIX)]


# How load_config records --set overrides at the end of a config's text (a run folder's config.toml).
OVERRIDES_HEADER = "# overrides from the command line:"
OVERRIDE_PREFIX = "# --set "


def config_from_run_text(text: str, source: str) -> Config:
    """The Config a run folder's ``config.toml`` describes: its TOML with its recorded ``--set`` lines applied.

    Two texts that differ only in the order of their ``--set`` flags (or in
    comments) give equal ``to_dict()``: that is how a resumed run is matched
    with the run that made the folder.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: invalid TOML: {error}") from None
    for assignment in _recorded_overrides(text):
        apply_override(raw, assignment)
    return config_from_dict(raw, source=source, text=text)
