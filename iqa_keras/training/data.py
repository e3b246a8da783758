"""A config's datasets -> record tables per role and score standardisation -> tf.data pipelines.

The records hold paths and scores, and the pipelines decode images as they
stream. Before that, every image is decoded once by the pipeline's own
decoder (verdicts cached, see ``data.image_check``), so a broken image or a
pair of two sizes stops the run before the first epoch, named by file and line.

Two record columns a reader may add change how a dataset is prepared:

* ``comparison``: the id of the labelled comparison a row comes from
  (PieAPP with ``aggregate = "none"``, one row per comparison, as the NTIRE
  2021 reference trained). Rows that repeat a (reference, distorted) pair pass
  the duplicate check when their comparison ids are all distinct.
* ``score_kind``: what the score is, when a dataset's rows carry different
  quantities (PieAPP: "preference" probabilities for train/val, "minus_error"
  for its test images). Rows of another kind than the training rows are never
  trained on (a split that would do so is an error) and are standardised with
  their own mean and std under the label ``<label>/<kind>``, so their targets
  and figures are on their own scale instead of the training constants'.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from ..config import Config, ConfigError
from ..data import dataset_spec, is_full_reference, make_dataset, read_dataset, split_records, validate_records
from ..data.image_check import check_record_images
from ..data.lightness_copies import add_lightness_copies
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


def _check_records(records: pd.DataFrame) -> None:
    """``validate_records``; repeated pairs are accepted when each row is a distinct labelled comparison."""
    per_comparison = "comparison" in records.columns and not records["comparison"].duplicated().any()
    validate_records(records, check_files=False, allow_duplicates=per_comparison)


def _separate_score_kinds(splits: dict, label: str, where: str) -> dict:
    """Rows whose ``score_kind`` differs from the training rows' get the label ``<label>/<kind>``.

    Training on two kinds of score at once is an error (they are different
    quantities, e.g. PieAPP's preferences and minus error scores).
    """
    train = splits.get("train")
    if train is None or "score_kind" not in train.columns:
        return splits
    kinds = sorted(set(train["score_kind"].astype(str)))
    if len(kinds) > 1:
        raise ConfigError(f"{where}.split: the training rows would mix scores of kinds {kinds}, which are "
                          "different quantities; use split = \"official\" (or \"auto\")")
    out = {}
    for role, part in splits.items():
        kind = part["score_kind"].astype(str)
        other = (kind != kinds[0]).to_numpy()
        out[role] = part.assign(db=[f"{label}/{k}" if o else label for k, o in zip(kind, other)])
    return out


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
            _check_records(records)
            check_record_images(records, cache_dir=config.data.cache_dir, check_sizes=not config.image_only)
        except ValueError as error:
            raise ConfigError(f"{where} ({section.name}): {error}") from None
        records = records.assign(db=section.label, crop=section.crop, resize=section.resize or 0)
        try:
            splits = split_records(records, section.split, section.fractions, config.data.seed)
        except ValueError as error:
            raise ConfigError(f"{where}.split: dataset {section.name!r}: {error}") from None
        splits = _separate_score_kinds(splits, section.label, where)
        for role, part in splits.items():
            parts[role].append(part)
        norms[section.label] = _score_norm(section, splits.get("train", records))
        directions[section.label] = bool(dataset_spec(section.name).higher_is_better)
        for role, part in splits.items():  # rows of another score kind: their own standardisation
            for label in sorted(set(part["db"]) - {section.label}):
                norms[label] = fit_standardisation(part.loc[part["db"] == label, "mos"])
                directions[label] = directions[section.label]
        kinds.add("fr" if is_full_reference(records) else "nr")
    if len(kinds) > 1:
        raise ConfigError(f"{config.source}: data.datasets mixes full-reference and no-reference datasets")
    records = {role: pd.concat(p, ignore_index=True) for role, p in parts.items() if p}
    for role in ("train", "val"):
        if role not in records or records[role].empty:
            raise ConfigError(f"{config.source}: data.datasets: no records for the {role!r} role")
    if lightness_copies(config):
        records["train"] = add_lightness_copies(records["train"], config.augment.lightness, config.train.seed)
    return PreparedData(records, norms, directions, kinds.pop())


def lightness_copies(config: Config) -> bool:
    """True when the training pairs get one offline lightness copy each (``augment.lightness_policy``)."""
    augment = config.augment
    return bool(augment.enabled and augment.lightness and augment.lightness_policy == "offline_copy")


def augment_options(config: Config) -> dict | None:
    """``make_dataset``'s ``augment`` for the training pairs (None when disabled)."""
    if not config.augment.enabled:
        return None
    return {
        "rot90": config.augment.rot90,
        "flip_lr": config.augment.flip_lr,
        "flip_ud": config.augment.flip_ud,
        # offline copies carry their own fixed factors (``prepare_data``): no new factor per epoch
        "lightness": None if lightness_copies(config) else (tuple(config.augment.lightness) or None),
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
