"""Where the text stages find descriptions, and the did-you-mean for a misspelt baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from ovmer.cli import main
from ovmer.errors import OvmerError
from ovmer.llm.inputs import stage_descriptions
from ovmer.store import Record, ResultsStore, store_path


def test_a_misspelt_baseline_gets_a_close_released_or_stored_name(tmp_path: Path) -> None:
    with pytest.raises(OvmerError, match=r"no released outputs for it; .* Did you mean 'Chat-UniVi'\?"):
        stage_descriptions("chat-univi", "S2", root=tmp_path)
    ResultsStore(store_path("describe", "MyModel", "S0", tmp_path)).append(Record("s1", "ok", "k", value="text"))
    assert stage_descriptions("MyModel", "S0", root=tmp_path)[0] == {"s1": "text"}
    with pytest.raises(OvmerError, match="in the results store. Did you mean 'MyModel'"):
        stage_descriptions("my-model", "S0", source="store", root=tmp_path)


@pytest.mark.parametrize("command", [["extract", "--setting", "S2"], ["merge"]])
def test_replay_runs_of_a_misspelt_baseline_say_did_you_mean(tmp_path: Path, command: list[str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command[0], "--backend", "replay", "--baseline", "Chat-Univ", *command[1:], "--output", str(tmp_path)]
    assert main(argv) == 1
    assert "Did you mean 'Chat-UniVi'?" in capsys.readouterr().err
