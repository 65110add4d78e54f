"""The charts of one resolved profile: its stable charts and its revisions' control planes."""

from __future__ import annotations

from collections.abc import Sequence

from meshcharts.base.names import revision_version
from meshcharts.catalog.charts import ISTIO_VERSION, all_charts
from meshcharts.chart.assemble import ChartTree, assemble_chart
from meshcharts.inputs.profiles import ProfileSet
from meshcharts.inputs.setvalues import SetArg
from meshcharts.resolution.resolve import Resolution, resolve
from meshcharts.values.origins import Layer

__all__ = [
    "CANARY",
    "NAMESPACE",
    "assemble_profile",
    "revision_namespace",
    "revision_tree",
]

NAMESPACE = "istio-system"
CANARY = "canary"


def assemble_profile(
    resolution: Resolution, *, version: str, source_commit: str = "unknown"
) -> list[ChartTree]:
    """Assemble every chart of a resolved profile, in install order."""
    return [
        assemble_chart(
            all_charts()[chart],
            components,
            resolution.values,
            profile=resolution.profile,
            version=version,
            app_version=ISTIO_VERSION,
            required=resolution.required,
            source_commit=source_commit,
        )
        for chart, components in resolution.charts.items()
    ]


def revision_namespace(revision: str) -> str:
    """The namespace a revision's control plane is installed into."""
    return f"{NAMESPACE}-{revision}"


def revision_tree(
    profiles: ProfileSet,
    name: str,
    revision: str,
    *,
    version: str,
    sets: Sequence[SetArg] = (),
    source_commit: str = "unknown",
) -> ChartTree:
    """The ``istio`` chart of profile ``name`` as the control plane of ``revision``.

    The stable control plane keeps the mesh-wide singletons, so the revision does not own
    them until the upgrade hands them over.
    """
    layer = Layer(f"revision {revision}", {"revision": revision, "singletonOwner": False})
    resolution = resolve(profiles, name, sets=sets, extra_layers=[layer])
    chart = all_charts()["istio"]
    return assemble_chart(
        chart,
        resolution.charts["istio"],
        resolution.values,
        profile=name,
        version=revision_version(version, revision),
        app_version=ISTIO_VERSION,
        required=resolution.required,
        source_commit=source_commit,
    )
