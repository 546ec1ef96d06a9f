"""LLM text stages: request concurrency and the per-sample cost of the store, side by side.

1. The OpenAI-compatible backend against a local chat-completions server that
   answers after a fixed delay (standing in for model latency): the same batch
   sent one request at a time and with 8 in flight; prints both times and the
   speed-up (goal: >= 5x).
2. The extract stage's own overhead (prompt rendering, keys, store appends with
   fsync, resume) with the replay backend over one baseline's 332 released
   replies: a fresh run and a resumed run that skips everything.

Run: ``python benchmarks/bench_llm.py``
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOAL_SPEEDUP = 5.0
REQUESTS = 48
DELAY_S = 0.05
CONCURRENCY = 8


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(DELAY_S)
        content = f"[{body['messages'][-1]['content'][-12:]}]"
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def bench_concurrency() -> bool:
    from ovmer.llm import ChatMessage, get_preset
    from ovmer.llm.openai_backend import OpenAIBackend

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    batch = [[ChatMessage("user", f"sample {i}")] for i in range(REQUESTS)]
    times = {}
    try:
        for concurrency in (1, CONCURRENCY):
            backend = OpenAIBackend("bench", base_url=url, concurrency=concurrency, max_retries=0)
            started = time.perf_counter()
            replies = backend.generate(batch, get_preset())
            times[concurrency] = time.perf_counter() - started
            assert replies[3] == "[sample 3]", replies[3]
    finally:
        server.shutdown()
        server.server_close()
    speedup = times[1] / times[CONCURRENCY]
    print(f"openai backend, {REQUESTS} requests at {DELAY_S * 1000:.0f} ms each:")
    print(f"  one at a time     {times[1]:.3f} s")
    print(f"  {CONCURRENCY} in flight       {times[CONCURRENCY]:.3f} s")
    print(f"  speed-up          {speedup:.1f}x (goal >= {GOAL_SPEEDUP:.0f}x)")
    return speedup >= GOAL_SPEEDUP


def bench_stage_overhead() -> None:
    from ovmer.extract import run_extract

    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        first = run_extract("Chat-UniVi", "S2", backend="replay", store_root=root, progress=False)
        fresh = time.perf_counter() - started
        started = time.perf_counter()
        again = run_extract("Chat-UniVi", "S2", backend="replay", store_root=root, progress=False)
        resumed = time.perf_counter() - started
    n = first.done + first.failed
    print(f"extract stage via replay, Chat-UniVi S2 ({n} samples, inputs loaded included):")
    print(f"  fresh run         {fresh:.3f} s ({1000 * fresh / n:.2f} ms/sample; {first})")
    print(f"  resumed run       {resumed:.3f} s ({1000 * resumed / n:.2f} ms/sample; {again})")
    print(f"  fresh / resumed   {fresh / resumed:.1f}x")


def main() -> int:
    ok = bench_concurrency()
    bench_stage_overhead()
    if not ok:
        print("concurrency speed-up below the goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
