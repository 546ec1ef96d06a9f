"""Which baselines and settings a stage notebook covers: the released ones, or the smoke subset."""

from __future__ import annotations

from collections.abc import Sequence

from ovmer.data.released import RELEASED_BASELINES
from ovmer.errors import OvmerError
from ovmer.settings import Setting

SMOKE_BASELINES: tuple[str, ...] = ("Chat-UniVi", "SALMONN")
SMOKE_LIMIT = 4  # samples per run of a describe model in smoke mode (merge/extract take all: scoring needs them)


def default_baselines(smoke: bool) -> tuple[str, ...]:
    """The baselines a notebook covers when its ``baselines`` parameter is empty."""
    return SMOKE_BASELINES if smoke else RELEASED_BASELINES


def parse_settings(values: Sequence[str | Setting]) -> tuple[Setting, ...]:
    """Settings from a notebook parameter (S0, nosubtitle, ...), without repeats; none is an error."""
    try:
        settings = tuple(dict.fromkeys(Setting.parse(v) for v in values))
    except ValueError as exc:
        raise OvmerError(str(exc)) from None
    if not settings:
        raise OvmerError("no settings chosen; use some of S0, S1, S2")
    return settings
