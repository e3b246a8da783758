"""``python -m iqa_keras.cli``: the same as ``iqa-keras``."""
import sys

from . import main

sys.exit(main())
