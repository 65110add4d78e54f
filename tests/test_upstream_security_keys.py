"""Istio 1.1's security, nodeagent, certmanager and istiocoredns keys are read here.

Each upstream key is set to a value other than its default and the rendered istio chart
must change: no accepted key is ignored.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from harness import assemble_components

from meshcharts.catalog.istio import ISTIO_CHART
from meshcharts.checks.render import render_objects

NS = "istio-system"
BASE: dict[str, Any] = {
    "global": {"sds": {"enabled": True, "useNormalJwt": True}},
    "security": {"enabled": True},
    "nodeagent": {"enabled": True},
    "certmanager": {"enabled": True},
    "istiocoredns": {"enabled": True},
}

# Every Istio 1.1 values key of these four components -> a value other than meshcharts'
# default.
CHANGES: dict[str, Any] = {
    "security.enabled": False,
    "security.createMeshPolicy": False,
    "security.selfSigned": False,
    "security.image": "docker.io/me/citadel:1.1.0",
    "security.replicaCount": 2,
    "security.nodeSelector": {"disk": "ssd"},
    "nodeagent.enabled": False,
    "nodeagent.env.CA_ADDR": "vault.example:8200",
    "nodeagent.env.CA_PROVIDER": "VaultCA",
    "nodeagent.env.Plugins": "GoogleTokenExchange",
    "nodeagent.env.VALID_TOKEN": False,
    "nodeagent.image": "node-agent-k8s-custom",
    "nodeagent.nodeSelector": {"disk": "ssd"},
    "certmanager.enabled": False,
    "certmanager.hub": "registry.example/jetstack",
    "certmanager.tag": "v0.6.3",
    "certmanager.nodeSelector": {"disk": "ssd"},
    "certmanager.resources": {"requests": {"cpu": "1m", "memory": "1Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
    "istiocoredns.enabled": False,
    "istiocoredns.coreDNSImage": "coredns/coredns:1.2.6",
    "istiocoredns.coreDNSPluginImage": "istio/coredns-plugin:0.2-istio-1.1.1",
    "istiocoredns.replicaCount": 2,
    "istiocoredns.nodeSelector": {"disk": "ssd"},
}  # fmt: skip


@functools.cache
def _render(values_json: str) -> str:
    tree = assemble_components(ISTIO_CHART.components, json.loads(values_json))
    return json.dumps(render_objects(tree, release="istio", namespace=NS), sort_keys=True)


def _with(key: str, value: Any) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(json.dumps(BASE))
    *parents, leaf = key.split(".")
    node = values
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return values


@pytest.mark.parametrize("key", sorted(CHANGES))
def test_each_upstream_key_changes_the_render(key: str) -> None:
    base = _render(json.dumps(BASE, sort_keys=True))
    assert _render(json.dumps(_with(key, CHANGES[key]), sort_keys=True)) != base
