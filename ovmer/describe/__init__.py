"""Stage 1, describe: an MLLM watches/listens to a sample and writes an emotion description."""
