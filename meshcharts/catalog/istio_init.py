"""The ``istio-init`` chart: every Istio CRD, plus cert-manager's behind a value.

CRDs are plain templates rather than ``crds/`` files or kubectl Jobs: Helm never
upgrades ``crds/``, and Istio 1.1's CRD Jobs broke ``helm upgrade`` (immutable Job
templates). Each CRD carries ``helm.sh/resource-policy: keep`` so that uninstalling the
chart never deletes the custom resources of a running mesh.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshcharts.base.yamltext import dump_values
from meshcharts.catalog.addons import CERTMANAGER as CERTMANAGER_ADDON
from meshcharts.catalog.component import ChartDef, Component
from meshcharts.catalog.crds import CrdSpec, crds
from meshcharts.errors import TemplateError

__all__ = ["CERTMANAGER_CRDS", "ISTIO_CRDS", "ISTIO_INIT_CHART"]


def _yaml(value: Mapping[str, Any]) -> str:
    text = dump_values(value).rstrip("\n")
    # The text lands inside a Go template: it must not hold template actions.
    if "{{" in text or "}}" in text:
        raise TemplateError(f"CRD data would become Go template syntax: {text[:60]!r}")
    return text


def _rendered(specs: tuple[CrdSpec, ...]) -> tuple[Mapping[str, Any], ...]:
    """Generation-time data for the CRD templates: names, labels and spec as YAML."""
    return tuple(
        {
            "name": spec.name,
            "labels": _yaml(dict(sorted(spec.labels.items()))),
            "spec": _yaml(spec.spec()),
        }
        for spec in specs
    )


ISTIO_CRDS = Component(
    name="crds",
    chart="istio-init",
    summary="Istio CRDs: networking, authentication, rbac and config.istio.io (Mixer)",
    template_data={"crds": _rendered(crds(certmanager=False))},
)

CERTMANAGER_CRDS = Component(
    name="certmanager",
    chart="istio-init",
    summary="cert-manager CRDs (certmanager.k8s.io), for the cert-manager add-on",
    defaults={"enabled": False},
    docs={"enabled": "Install the cert-manager CRDs (certmanager.k8s.io/v1alpha1)."},
    # Both charts read the one `certmanager` block: accept the keys of the istio chart's
    # add-on here (that chart checks them) and still reject anything else.
    schema={
        "": {
            "type": "object",
            "properties": {
                **{key: {} for key in CERTMANAGER_ADDON.defaults},
                "enabled": {
                    "type": "boolean",
                    "description": "Install the cert-manager CRDs (certmanager.k8s.io/v1alpha1).",
                },
            },
            "additionalProperties": False,
        }
    },
    template_data={"crds": _rendered(tuple(s for s in crds(certmanager=True) if s.certmanager))},
)

ISTIO_INIT_CHART = ChartDef(
    name="istio-init",
    description="Istio CRDs, installed and upgraded ahead of the istio control plane",
    keywords=("istio", "crd"),
    global_defaults={},
    components=(ISTIO_CRDS, CERTMANAGER_CRDS),
)
