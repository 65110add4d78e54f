"""Checks on chart trees: Helm rendering, coexistence, lint, diffs, the upgrade plan."""
