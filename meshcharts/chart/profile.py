"""The charts of one resolved profile: its stable charts and its revisions' control planes."""

from __future__ import annotations

from collections.abc import Sequence

from meshcharts.base.names import revision_version
from meshcharts.chart.assemble import ChartTree, assemble_chart
from meshcharts.inputs.profiles import ProfileSet
from meshcharts.inputs.setvalues import SetArg
from meshcharts.resolution.resolve import Resolution, resolve
from meshcharts.values.origins import Layer

__all__ = [
    "CANARY",
    "NAMESPACE",
    "assemble_profile",
    "revision_layer",
    "revision_namespace",
    "revision_trees",
]

NAMESPACE = "istio-system"
CANARY = "canary"


def assemble_profile(
    resolution: Resolution, *, version: str, source_commit: str = "unknown"
) -> list[ChartTree]:
    """Assemble every chart of a resolved profile, in install order."""
    return [
        assemble_chart(
            resolution.chart(chart),
            components,
            resolution.values,
            profile=resolution.profile,
            version=version,
            required=resolution.required,
            source_commit=source_commit,
        )
        for chart, components in resolution.charts.items()
    ]


def revision_namespace(revision: str) -> str:
    """The namespace a revision's control plane is installed into."""
    return f"{NAMESPACE}-{revision}"


def revision_layer(resolution: Resolution, revision: str) -> Layer:
    """The values that make the charts of ``resolution`` the control plane of ``revision``.

    ``revision`` names every object apart; where a chart has ``singletonOwner``, the stable
    control plane keeps the mesh-wide singletons, so the revision does not own them until
    the upgrade hands them over.
    """
    values: dict[str, object] = {"revision": revision}
    if any("singletonOwner" in resolution.chart(chart).values for chart in resolution.charts):
        values["singletonOwner"] = False
    return Layer(f"revision {revision}", values)


def revision_trees(
    profiles: ProfileSet,
    name: str,
    revision: str,
    *,
    version: str,
    sets: Sequence[SetArg] = (),
    source_commit: str = "unknown",
) -> list[ChartTree]:
    """The charts of profile ``name`` that have revisions, as the control plane of ``revision``.

    Each is versioned as a SemVer pre-release of ``version`` and has ``revision`` baked into
    its values; the profile's other charts are installed once and are not rebuilt.
    """
    base = resolve(profiles, name, sets=sets)
    charts = [chart for chart in base.charts if base.chart(chart).revisions]
    if not charts:
        return []
    resolution = resolve(profiles, name, sets=sets, extra_layers=[revision_layer(base, revision)])
    return [
        assemble_chart(
            resolution.chart(chart),
            resolution.charts[chart],
            resolution.values,
            profile=name,
            version=revision_version(version, revision),
            required=resolution.required,
            source_commit=source_commit,
        )
        for chart in charts
    ]
