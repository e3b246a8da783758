"""Datasets: records, readers, the embedded synthetic set, HDF5 store, tf.data pipelines."""
from .images import ImageReadError, read_image, to_rgb_uint8  # noqa: F401
