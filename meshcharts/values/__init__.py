"""The merge engine: layers, origins, keyed merge rules, Helm's coalesce, explanations."""
