"""The program of the external protocol, as it would run in the model's own environment."""

import json
import os


def describe(video: str, audio: str, prompt: str) -> str:  # the user's model goes here
    return f"{os.path.basename(video)} with {os.path.basename(audio)}: she sounds happy. ({len(prompt)} chars)"


with open(os.environ["OVMER_REQUESTS"]) as requests, open(os.environ["OVMER_RESULTS"], "a") as results:
    for line in requests:
        request = json.loads(line)
        text = describe(request["video"], request["audio"], request["prompt"])
        results.write(json.dumps({"name": request["name"], "status": "ok", "text": text}) + "\n")
        results.flush()
