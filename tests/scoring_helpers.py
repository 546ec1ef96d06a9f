"""A tiny hand-written emotion-wheel asset set, for scoring rules checked by hand (no assets)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ovmer.data.wheels import FORMAT_FILE, SYNONYM_FILE, WHEEL_FILES


def write_tiny_assets(folder: Path) -> dict[str, Path]:
    wheel = pd.DataFrame(
        {
            "level1": ["Joy", None, None, "Sad", None],
            "level2": ["Content", None, "Proud", "Lonely", "Hurt"],
            "level3": ["Glad ", "Peaceful", "Confident", "Isolated", "Content"],  # "content" listed twice
        }
    )
    paths: dict[str, Path] = {}
    for k, rel in enumerate(WHEEL_FILES):
        path = folder / f"wheel{k + 1}.xlsx"
        (wheel if k == 0 else wheel.iloc[:3]).to_excel(path, index=False)
        paths[rel] = path
    synonyms = {}
    for run in range(1, 9):
        synonyms[f"word_run{run}"] = ["glad", "Proud", "isolated", "confident"]
        synonyms[f"synonym_run{run}"] = [
            "happy, cheerful" if run == 1 else "happy",
            "confident",  # "confident" is a wheel word too: it reaches proud and itself
            "alone" if run < 8 else "alone, lonesome",
            "self-assured",
        ]
    pd.DataFrame(synonyms).to_excel(folder / "synonym.xlsx", index=False)
    paths[SYNONYM_FILE] = folder / "synonym.xlsx"
    forms = pd.DataFrame(
        {
            "name": ["glad", "happy", "cheerful", "proud", "confident", "isolated", "alone", "lonesome"],
            "format": [
                "gladness,gladly",
                "happiness,happily",
                "cheer,cheerfully",
                "pride",
                "confidence",
                "isolation",
                "loneliness",
                "loneliness",  # a form under two names maps to both
            ],
        }
    )
    forms.to_csv(folder / "format.csv", index=False)
    paths[FORMAT_FILE] = folder / "format.csv"
    return paths
