"""Architecture families; importing this package registers every builder."""
from . import fr_attention, fr_bn, fr_simple, fr_tiled  # noqa: F401  (registration)
