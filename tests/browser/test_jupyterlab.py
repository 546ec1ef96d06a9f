"""The explorer and the score notebook as a person sees them: JupyterLab in Chromium.

Expected values come from the Python API; the assertions read what the page renders.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ovmer.data import load_ovmerd
from ovmer.reproduce.explore import explore_sample
from ovmer.reproduce.explore_compare import HIT, compare_sample
from ovmer.scoring.explain import explain_label

pytestmark = pytest.mark.browser
RUN_TIMEOUT_MS = 240_000
FEAR_SAMPLE = "sample_00000055"  # Qwen-Audio predicts "fear", which wheel 2 counts as "happy"


def menu(page, top: str, item: str) -> None:
    page.get_by_role("menuitem", name=top, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def open_notebook(page, lab, name: str) -> None:
    page.goto(lab.notebook_url(name))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # JupyterLab asks for a kernel when the notebook opens before the kernel list has loaded;
    # the notebook names the package's kernel, which the dialog preselects.
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    try:
        dialog.wait_for(timeout=5_000)
    except Exception:  # noqa: BLE001 - no dialog: the kernel started on its own
        pass
    else:
        assert "Python (ovmer)" in dialog.inner_text()
        dialog.get_by_role("button", name="Select", exact=True).click()
    # the kernel is up when the toolbar's kernel indicator says idle
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)


def run_all(page) -> None:
    menu(page, "Edit", "Clear Outputs of All Cells")  # so that the prompts show what this run executed
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].every(p => !/\\d/.test(p.textContent))",
        timeout=30_000)
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=RUN_TIMEOUT_MS,
    )
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=RUN_TIMEOUT_MS)


def errors_shown(page) -> list[str]:
    texts = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    return [t for t in texts if "Traceback" in t or "Error" in t]


def with_media(lab, tmp_path_factory) -> Path:
    """A MER2025-layout folder with synthetic clips for two samples, set as the explorer's media_dir."""
    from media_helpers import make_mer2025_layout

    folder = make_mer2025_layout(tmp_path_factory.mktemp("mer2025"), names=("sample_00000000", FEAR_SAMPLE),
                                 with_faces=False, seconds=1.0)
    notebook = lab.root / "notebooks" / "explore.ipynb"
    data = json.loads(notebook.read_text(encoding="utf-8"))
    [cell] = [c for c in data["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    source = "".join(cell["source"]).replace('media_dir: str = ""', f'media_dir: str = "{folder}"')
    assert str(folder) in source
    cell["source"] = source
    notebook.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return folder


def test_explorer_renders_and_follows_the_pickers(page, lab, screenshots, tmp_path_factory) -> None:
    with_media(lab, tmp_path_factory)
    names = list(load_ovmerd().names)
    first = explore_sample("Chat-UniVi", "S2", "sample_00000000")
    open_notebook(page, lab, "explore.ipynb")
    run_all(page)
    assert errors_shown(page) == []

    widget = page.locator(".widget-vbox").filter(has=page.locator(".widget-tab")).last
    sample_tab = widget.locator(".ovmer-header").first
    assert sample_tab.inner_text() == first.header
    view = widget.locator(".widget-tab")
    assert view.locator(".ovmer-ground-truth").first.inner_text() == "Ground truth\n" + ", ".join(first.ground_truth)
    assert view.locator(".ovmer-predicted").first.inner_text() == "Predicted\n" + ", ".join(first.predicted)
    metrics = view.locator(".ovmer-metrics table").first
    assert metrics.locator("tbody tr").count() == 12
    assert "M3-W5-L2" in metrics.inner_text() and "contribution to the dataset M-avg" in metrics.inner_text()
    assert view.locator(".ovmer-legend").count() >= 1
    assert view.locator(".ovmer-subtitle-zh").first.inner_text().endswith(first.subtitle_zh)
    # the clip: a strip of frames, an audio player and a waveform
    assert view.locator(".ovmer-frames img").count() == 6
    assert view.locator("audio.ovmer-audio").count() == 1 and view.locator("svg.ovmer-waveform").count() == 1
    widget.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(screenshots / "explore-sample.png"))

    # baseline, sample (searchable), setting: the view follows with the right sample
    widget.locator("select").nth(0).select_option("Qwen-Audio")
    search = widget.locator("input[type='text']").first
    search.fill(FEAR_SAMPLE)
    search.press("Enter")
    fear = explore_sample("Qwen-Audio", "S2", FEAR_SAMPLE)
    page.wait_for_function(
        "h => [...document.querySelectorAll('.widget-tab .ovmer-header')].some(e => e.textContent === h)",
        arg=fear.header, timeout=30_000)
    assert view.locator(".ovmer-predicted").first.inner_text() == "Predicted\n" + ", ".join(fear.predicted)
    panel = view.locator(".ovmer-explain").first
    chosen = explain_label("fear").choice(2, 1)
    panel.locator("summary", has_text="fear").first.click()
    panel.evaluate("e => e.scrollIntoView({block: 'start'})")
    assert f"{chosen.word} → {chosen.value}" in panel.inner_text() and "fearless" in panel.inner_text()
    page.screenshot(path=str(screenshots / "explore-fear.png"))

    widget.locator("select").nth(1).select_option("S0")
    s0 = explore_sample("Qwen-Audio", "S0", FEAR_SAMPLE)
    page.wait_for_function(
        "h => [...document.querySelectorAll('.widget-tab .ovmer-header')].some(e => e.textContent === h)",
        arg=s0.header, timeout=30_000)
    assert "the baseline saw no subtitle" in view.inner_text()

    widget.get_by_role("button", name="▶").click()
    following = names[(names.index(FEAR_SAMPLE) + 1) % len(names)]
    page.wait_for_function(
        "h => [...document.querySelectorAll('.widget-tab .ovmer-header')].some(e => e.textContent === h)",
        arg=explore_sample("Qwen-Audio", "S0", following).header, timeout=30_000)

    # the compare view: every baseline for the same sample, hits marked under the chosen metric
    widget.locator("select").nth(2).select_option("M3-W2-L1")
    widget.locator(".lm-TabBar-tab", has_text="compare").click()
    compared = compare_sample(following, "S0", "M3-W2-L1")
    table = view.locator("table.ovmer-compare").first
    page.wait_for_function(
        "n => [...document.querySelectorAll('.ovmer-compare-header')].some(e => e.textContent.startsWith(n))",
        arg=following, timeout=30_000)
    assert table.locator("tr.ovmer-compare-row").count() == len(compared.rows)
    for index, row in enumerate(compared.rows):
        shown = table.locator("tr.ovmer-compare-row").nth(index)
        assert shown.locator("td").first.inner_text() == row.baseline
        assert shown.locator(f".ovmer-{HIT}").count() == row.count(HIT)
    widget.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(screenshots / "explore-compare.png"))
    widget.locator(".lm-TabBar-tab", has_text="disagreement").click()
    assert re.search(r"samples where the baselines disagree most", view.inner_text())


def test_score_notebook_runs_in_the_browser_and_shows_styled_tables(page, lab, screenshots) -> None:
    open_notebook(page, lab, "04_score.ipynb")
    run_all(page)
    assert errors_shown(page) == []
    text = page.locator(".jp-Notebook").inner_text()
    assert "F (x100) of every metric in S2" in text and "M-avg (F x100) recorded" in text
    assert re.search(r"\d+\.\d\d \[\d+\.\d\d, \d+\.\d\d\]", text), "no interval shown as 'value [low, high]'"
    tables = page.locator(".jp-RenderedHTMLCommon table")
    assert tables.count() >= 2 and tables.first.locator("caption").count() == 1
    page.screenshot(path=str(screenshots / "score.png"), full_page=True)
