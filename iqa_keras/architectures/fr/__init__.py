"""The NTIRE 2021 full-reference networks: simple, bn, attention and tiled (registers them)."""
from . import attention, bn, simple, tiled  # noqa: F401  (registration)
