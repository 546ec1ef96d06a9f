"""A label extractor that needs no model: lexicon matching + a small learned candidate classifier.

``load_or_fit()`` returns the fitted :class:`CpuExtractor` from the data folder's
cache, fitting it on the authors' released (description -> LLM label list) pairs
first if absent (seconds). ``CpuExtractor.extract(texts)`` -> one label list per text.
"""

from ovmer.extract.cpu.extractor import CpuExtractor
from ovmer.extract.cpu.training import extractor_path, fit, fit_released, load_or_fit, training_pairs

__all__ = ["CpuExtractor", "extractor_path", "fit", "fit_released", "load_or_fit", "training_pairs"]
