"""Architecture families; importing this package registers every builder."""
from . import fr_attention, fr_bn, fr_simple, fr_tiled, ranking  # noqa: F401  (registration)
from . import resnet  # noqa: F401,E402  (registration: resnet18, no-reference)
from . import nima  # noqa: F401,E402  (registration: nima, nima_regression, no-reference)
from .. import nima_loss  # noqa: F401,E402  (registration: the "nima" loss, EMD + regularisers)
