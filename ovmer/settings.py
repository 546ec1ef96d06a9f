"""The paper's three input settings."""

from __future__ import annotations

import enum

from ovmer.errors import SettingError


class Setting(enum.StrEnum):
    """How the subtitle reaches the model.

    S0 ``nosubtitle``: video/audio only. S1 ``subtitle``: subtitle in the prompt.
    S2 ``nosubtitle-addsub``: the S0 description merged with the subtitle by an
    LLM afterwards ("clue merging").
    """

    NOSUBTITLE = "nosubtitle"
    SUBTITLE = "subtitle"
    NOSUBTITLE_ADDSUB = "nosubtitle-addsub"

    @property
    def short(self) -> str:
        return {"nosubtitle": "S0", "subtitle": "S1", "nosubtitle-addsub": "S2"}[self.value]

    @classmethod
    def parse(cls, value: str | Setting) -> Setting:
        """Accept the value (``subtitle``), the short name (``S1``) or the member name."""
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        for member in cls:
            if text in (member.value, member.short, member.name) or text.lower() in (
                member.value,
                member.short.lower(),
                member.name.lower(),
            ):
                return member
        choices = ", ".join(f"{m.value} ({m.short})" for m in cls)
        raise SettingError(f"unknown setting {value!r}; choose one of: {choices}")

    def __str__(self) -> str:
        return self.value


ALL_SETTINGS: tuple[Setting, ...] = tuple(Setting)
