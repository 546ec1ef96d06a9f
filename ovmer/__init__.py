"""ovmer: reproducible OV-MER (open-vocabulary multimodal emotion recognition).

Importing the package is cheap: no torch, no I/O. Heavy dependencies load where
models are built.
"""

from ovmer.errors import OvmerError
from ovmer.settings import Setting

__version__ = "0.1.0"
__all__ = ["OvmerError", "Setting", "__version__"]
