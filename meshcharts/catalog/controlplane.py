"""Top-level values of the ``istio`` chart: which control plane this is, and the mesh inventory.

``revision`` names a canary control plane (every object it renders is suffixed
``-<revision>`` and labelled ``istio.io/rev``); ``singletonOwner`` says whether this
control plane owns the mesh-wide singletons; ``mesh.namespaces`` lists the namespaces of
the mesh for ``meshcharts lint``.
"""

from __future__ import annotations

from typing import Any

from meshcharts.catalog.component import JsonSchema

__all__ = ["CONTROL_PLANE_DOCS", "CONTROL_PLANE_SCHEMA", "CONTROL_PLANE_VALUES"]

_DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

CONTROL_PLANE_VALUES: dict[str, Any] = {
    "revision": "",
    "singletonOwner": True,
    "mesh": {"namespaces": []},
    "istio_cni": {"enabled": False},
}

CONTROL_PLANE_DOCS: dict[str, str] = {
    "revision": "Canary revision of this control plane (empty: the stable one). Every object "
    "gets a -<revision> suffix and the label istio.io/rev; its injector selects namespaces "
    "labelled istio.io/rev=<revision> that have no istio-injection label.",
    "singletonOwner": "This control plane owns the mesh-wide singletons (MeshPolicy default, "
    "ClusterRbacConfig default, the validating webhook for Istio config). Exactly one "
    "installed control plane may own them.",
    "mesh": "The mesh inventory, read by meshcharts lint (renders nothing).",
    "istio_cni.enabled": "The CNI plugin of the separate istio-cni chart sets up the pods' "
    "traffic redirection: injection adds no istio-init container (and no NET_ADMIN).",
}

CONTROL_PLANE_SCHEMA: dict[str, JsonSchema] = {
    "revision": {
        "type": "string",
        "description": CONTROL_PLANE_DOCS["revision"],
        "anyOf": [{"maxLength": 0}, {"pattern": _DNS_LABEL, "maxLength": 40}],
    },
    "mesh": {
        "type": "object",
        "description": CONTROL_PLANE_DOCS["mesh"],
        "properties": {
            "namespaces": {
                "type": "array",
                "description": "Namespaces of the mesh: [{name, injection}]. meshcharts lint "
                "refuses strict mTLS while one of them is not injected.",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "pattern": _DNS_LABEL, "maxLength": 63},
                        "injection": {
                            "type": "string",
                            "pattern": _DNS_LABEL,
                            "description": "enabled, disabled, or the revision that injects it.",
                        },
                    },
                    "required": ["name", "injection"],
                    "additionalProperties": False,
                },
            }
        },
        "additionalProperties": False,
    },
}
