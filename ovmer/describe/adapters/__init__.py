"""Native describe adapters, one module per model family (imported lazily by the registry)."""
