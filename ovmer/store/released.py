"""Deprecated alias of :mod:`ovmer.store.authors_npz` (removed after 0.2; import from there)."""

import warnings

from ovmer.store.authors_npz import (
    DESCRIPTION_STAGES,
    LABEL_STAGE,
    RELEASED_SOURCE,
    ExportFormat,
    ImportedFile,
    description_stage,
    export_descriptions,
    export_labels,
    export_store,
    import_released,
    infer_format,
)

__all__ = [
    "DESCRIPTION_STAGES",
    "LABEL_STAGE",
    "RELEASED_SOURCE",
    "ExportFormat",
    "ImportedFile",
    "description_stage",
    "export_descriptions",
    "export_labels",
    "export_store",
    "import_released",
    "infer_format",
]

warnings.warn(
    "ovmer.store.released is deprecated and will be removed after 0.2; import from ovmer.store.authors_npz",
    DeprecationWarning,
    stacklevel=2,
)
