"""Downloads from the Hugging Face Hub: the MER2025 dataset and the native baselines' checkpoints.

``ovmer download mer2025`` (:mod:`ovmer.hub.mer2025`) and ``ovmer download-model``
(:mod:`ovmer.hub.models`) go through :func:`ovmer.hub.snapshots.fetch_snapshot`:
``huggingface_hub.snapshot_download`` into the Hub's cache layout (resumable, with progress
bars), with the Hub's refusals turned into one-line messages (gated access: the licence
agreement and ``HF_TOKEN``). ``huggingface_hub`` is imported only when a download runs.
"""
