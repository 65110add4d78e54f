"""Helm's coalescing of a values file over a chart's values: the one implementation.

Used where meshcharts writes values files (the file coalesced over the packaged values must
give the environment's values exactly) and where it renders charts as Helm does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["helm_coalesce"]


def helm_coalesce(user: Mapping[str, Any], chart: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of a values file over a chart's values (``coalesceValues``).

    The file wins; a null in it deletes the chart's key; keys only the chart has are kept;
    two maps coalesce recursively. The result shares values with both inputs: read it only.
    """
    out = dict(user)
    for key, chart_value in chart.items():
        if key not in out:
            out[key] = chart_value
        elif out[key] is None:
            del out[key]
        elif isinstance(out[key], Mapping) and isinstance(chart_value, Mapping):
            out[key] = helm_coalesce(out[key], chart_value)
    return out
