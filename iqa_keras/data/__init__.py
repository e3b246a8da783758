"""Datasets: record tables, readers, splits, the embedded synthetic set, NIMA targets, tf.data pipelines.

Typical use::

    from iqa_keras.data import read_dataset, validate_records, split_by_content, make_dataset
    records = validate_records(read_dataset("embedded"))
    splits = split_by_content(records, {"train": 0.8, "val": 0.2}, seed=0)
    train = make_dataset(splits["train"], 128, 16, shuffle=True, augment="seed", crop="random")
"""
from .augment import (  # noqa: F401
    lab_to_rgb,
    paired_geometric,
    random_paired_augment,
    rgb_to_lab,
    scale_lightness,
)
from .images import ImageReadError, read_image, to_rgb_uint8  # noqa: F401
from .pipeline import decode_rgb, fit_to_size_numpy, make_dataset, normalised_scores  # noqa: F401
from .readers import READERS, SPECS, dataset_spec, read_dataset  # noqa: F401
from .records import (  # noqa: F401
    COLUMNS,
    DatasetSpec,
    drop_missing_files,
    is_full_reference,
    make_records,
    validate_records,
)
from .splits import split_by_content, split_records  # noqa: F401
from .synthetic import build_embedded, embedded_contents, read_embedded, synthetic_mos  # noqa: F401
