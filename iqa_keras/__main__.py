"""``python -m iqa_keras``: the same as ``iqa-keras``."""
import sys

from .cli import main

sys.exit(main())
