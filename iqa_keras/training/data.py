"""A config's datasets -> record tables per role and score standardisation -> tf.data pipelines.

The records hold paths and scores, and the pipelines decode images as they
stream. Before that, every image is decoded once by the pipeline's own
decoder (verdicts cached, see ``data.image_check``), so a broken image or a
pair of two sizes stops the run before the first epoch, named by file and line.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from ..config import Config, ConfigError
from ..data import dataset_spec, is_full_reference, make_dataset, read_dataset, split_records, validate_records
from ..data.image_check import check_record_images
from ..scales import fit_standardisation

ROLES = ("train", "val", "test")


@dataclasses.dataclass
class PreparedData:
    """The records of each role and the per-dataset score standardisation."""

    records: dict  # role -> DataFrame (rows of every dataset, column `db` = label)
    score_norm: dict  # db label -> (mean, std)
    higher_is_better: dict  # db label -> bool
    kind: str  # "fr" when the records have references, else "nr"
    target_columns: list | None = None  # histogram targets (hist_1..hist_10) instead of the MOS


def _score_norm(section, train_part: pd.DataFrame) -> tuple[float, float]:
    if section.score_norm == "auto":
        return fit_standardisation(train_part["mos"])
    if section.score_norm == "none":
        return (0.0, 1.0)
    return (float(section.score_norm[0]), float(section.score_norm[1]))


def prepare_data(config: Config) -> PreparedData:
    """Reads, validates and splits every dataset of the config (no images loaded)."""
    parts = {role: [] for role in ROLES}
    norms, directions, kinds = {}, {}, set()
    for index, section in enumerate(config.data.datasets):
        where = f"{config.source}: data.datasets[{index}]"
        kwargs = dict(section.options)
        if section.name in ("embedded", "photos") and config.data.cache_dir:
            kwargs.setdefault("cache_dir", config.data.cache_dir)
        try:
            records = read_dataset(section.name, section.root, **kwargs)
        except (TypeError, ValueError) as error:  # e.g. an unknown or invalid reader option
            raise ConfigError(f"{where} ({section.name}): {error}") from None
        try:
            validate_records(records, check_files=False)
            check_record_images(records, cache_dir=config.data.cache_dir, check_sizes=not config.image_only)
        except ValueError as error:
            raise ConfigError(f"{where} ({section.name}): {error}") from None
        records = records.assign(db=section.label, crop=section.crop)
        try:
            splits = split_records(records, section.split, section.fractions, config.data.seed)
        except ValueError as error:
            raise ConfigError(f"{where}.split: dataset {section.name!r}: {error}") from None
        for role, part in splits.items():
            parts[role].append(part)
        norms[section.label] = _score_norm(section, splits.get("train", records))
        directions[section.label] = bool(dataset_spec(section.name).higher_is_better)
        kinds.add("fr" if is_full_reference(records) else "nr")
    if len(kinds) > 1:
        raise ConfigError(f"{config.source}: data.datasets mixes full-reference and no-reference datasets")
    records = {role: pd.concat(p, ignore_index=True) for role, p in parts.items() if p}
    for role in ("train", "val"):
        if role not in records or records[role].empty:
            raise ConfigError(f"{config.source}: data.datasets: no records for the {role!r} role")
    return PreparedData(records, norms, directions, kinds.pop())


def augment_options(config: Config) -> dict | None:
    """``make_dataset``'s ``augment`` for the training pairs (None when disabled)."""
    if not config.augment.enabled:
        return None
    return {
        "rot90": config.augment.rot90,
        "flip_lr": config.augment.flip_lr,
        "flip_ud": config.augment.flip_ud,
        "lightness": tuple(config.augment.lightness) or None,
    }


def pipeline_options(config: Config, role: str) -> dict:
    """The ``make_dataset`` options of one role: shuffled and augmented for training only."""
    training = role == "train"
    return dict(
        input_size=config.model.input_size,
        batch_size=config.train.batch_size,
        shuffle=training,
        augment=augment_options(config) if training else None,
        seed=config.train.seed,
        crop=None,  # per-row `crop` column; "random" becomes "center" outside training
        training=training,
        # A fixed number of steps per epoch draws from an endless stream of
        # fresh crops and augmentations.
        repeat=training and config.train.steps_per_epoch is not None,
    )


def make_pipelines(config: Config, data: PreparedData) -> dict:
    """tf.data pipelines per role, with standardised scores (or the task's target columns)."""
    return {
        role: make_dataset(records, score_norm=data.score_norm, target_columns=data.target_columns,
                           **pipeline_options(config, role))
        for role, records in data.records.items()
    }
