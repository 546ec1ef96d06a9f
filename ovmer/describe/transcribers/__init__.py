"""ASR backends, one module per speech recogniser (imported lazily by the ASR registry)."""
