"""Deprecated: the describe stage's message is the one chat message of :mod:`ovmer.messages`.

``Message(name, parts, system=None, meta=None)`` still builds one (a
:class:`~ovmer.messages.Chat` with a system turn and a user turn) for one
release; the part types are the same classes under their old names.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from ovmer.messages import AUDIO_SAMPLE_RATE, AudioPart, Chat, Part, SubtitlePart, TextPart, VideoPart

__all__ = ["AUDIO_SAMPLE_RATE", "AudioPart", "Message", "Part", "SubtitlePart", "TextPart", "VideoPart"]


def Message(name: str, parts: Iterable[Part], system: str | None = None,  # noqa: N802 (the old class name)
            meta: Mapping[str, Any] | None = None) -> Chat:
    """Deprecated: use :meth:`ovmer.messages.Chat.user`."""
    warnings.warn("ovmer.describe.message.Message is deprecated; use ovmer.messages.Chat.user(parts, "
                  "system=..., name=...)", DeprecationWarning, stacklevel=2)
    return Chat.user(parts, system=system, name=name, meta=meta)
