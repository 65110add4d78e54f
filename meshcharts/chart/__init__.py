"""Resolved values to chart trees in memory: assembly, schema, README, templating, values files."""
