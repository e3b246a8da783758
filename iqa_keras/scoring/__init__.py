"""Scoring images with trained models: one ``Scorer`` for full-reference and no-reference models.

* :mod:`.scorer`: ``Scorer`` (ensembles, test-time augmentation, patches for any image size,
  NIMA histogram means, feature distances);
* :mod:`.tta`: the test-time augmentation sets; :mod:`.patches`: cutting images into model-size patches;
* :mod:`.pairing`: pairing a folder of distorted images with their references;
* :mod:`.outputs`: NTIRE ``output.txt`` / submission zip, CSV and JSON score files;
* :mod:`.jpeg_check`: the JPEG sanity check of no-reference scores.
"""
from .outputs import ntire_output_text, ntire_readme_text, scores_csv_text, scores_json_text, write_scores  # noqa: F401
from .pairing import MissingReferenceError, Pairing, expand_images, pair_folders  # noqa: F401
from .patches import PatchGrid, coverage_map, extract_patches, patch_grid  # noqa: F401
from .scorer import (  # noqa: F401
    MODES,
    NoModelsError,
    PatchScores,
    Scorer,
    cosine_distance,
    load_models,
    model_files,
    no_reference_scorer,
    single_model_path,
)
from .tta import TTA_SETS, Augmentation, resolve_tta  # noqa: F401
