"""Can two control planes run side by side? Object, injector and singleton collisions.

Two installs of the ``istio`` chart collide when both define the same object (kind and
name for cluster-scoped kinds, kind, namespace and name otherwise), when one namespace
could be selected by both sidecar injectors, or when both define a mesh-wide singleton
(the MeshPolicy, the ClusterRbacConfig, the validating webhook for Istio config).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshcharts.chart.assemble import ChartTree
from meshcharts.checks.render import render_objects
from meshcharts.errors import CollisionError

__all__ = [
    "CLUSTER_SCOPED",
    "Collision",
    "Installed",
    "check_coexistence",
    "coexistence_collisions",
    "find_collisions",
    "rendered_installed",
    "selectors_overlap",
]

CLUSTER_SCOPED = frozenset(
    {
        "APIService",
        "ClusterIssuer",
        "ClusterRbacConfig",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "MeshPolicy",
        "MutatingWebhookConfiguration",
        "Namespace",
        "PriorityClass",
        "ValidatingWebhookConfiguration",
    }
)
_SINGLETON_KINDS = {
    "MeshPolicy": "the mesh-wide MeshPolicy",
    "ClusterRbacConfig": "ClusterRbacConfig",
}


@dataclass(frozen=True)
class Installed:
    """The rendered objects of one release and the namespace it is installed into."""

    label: str
    namespace: str
    objects: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Collision:
    """One reason two control planes cannot run side by side."""

    kind: str  # "object", "injector" or "singleton"
    detail: str


def _identity(obj: Mapping[str, Any], namespace: str) -> tuple[str, ...]:
    meta = obj.get("metadata", {})
    if obj["kind"] in CLUSTER_SCOPED:
        return (obj["kind"], meta["name"])
    return (obj["kind"], meta.get("namespace") or namespace, meta["name"])


def _object_collisions(a: Installed, b: Installed) -> Iterable[Collision]:
    ours = {_identity(o, a.namespace) for o in a.objects}
    for identity in sorted(ours & {_identity(o, b.namespace) for o in b.objects}):
        yield Collision("object", f"both define {'/'.join(identity)}")


def _requirements(selector: Mapping[str, Any]) -> list[tuple[str, str, frozenset[str]]]:
    reqs = [(k, "In", frozenset([str(v)])) for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        reqs.append((expr["key"], expr["operator"], frozenset(map(str, expr.get("values") or []))))
    return reqs


def _key_satisfiable(reqs: list[tuple[str, frozenset[str]]]) -> bool:
    """Can one label key (absent, or present with some value) meet every requirement?"""
    must_exist = any(op in ("In", "Exists") for op, _ in reqs)
    if any(op == "DoesNotExist" for op, _ in reqs):
        # An absent key satisfies NotIn and DoesNotExist, never In or Exists.
        return not must_exist
    allowed: frozenset[str] | None = None
    for op, values in reqs:
        if op == "In":
            allowed = values if allowed is None else allowed & values
    banned = frozenset().union(*(values for op, values in reqs if op == "NotIn"))
    # Without an In requirement infinitely many values (or absence) remain possible.
    return allowed is None or bool(allowed - banned)


def selectors_overlap(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    """Whether some set of namespace labels matches both label selectors."""
    by_key: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for key, op, values in _requirements(first) + _requirements(second):
        by_key.setdefault(key, []).append((op, values))
    return all(_key_satisfiable(reqs) for reqs in by_key.values())


def _injector_selectors(installed: Installed) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (f"{obj['metadata']['name']}/{hook['name']}", hook.get("namespaceSelector") or {})
        for obj in installed.objects
        if obj["kind"] == "MutatingWebhookConfiguration"
        for hook in obj.get("webhooks", [])
    ]


def _injector_collisions(a: Installed, b: Installed) -> Iterable[Collision]:
    for name_a, sel_a in _injector_selectors(a):
        for name_b, sel_b in _injector_selectors(b):
            if selectors_overlap(sel_a, sel_b):
                yield Collision(
                    "injector",
                    f"a namespace can be selected by both injectors {name_a} ({a.label}) and "
                    f"{name_b} ({b.label})",
                )


def _singletons(installed: Installed) -> set[str]:
    found = {
        _SINGLETON_KINDS[o["kind"]] for o in installed.objects if o["kind"] in _SINGLETON_KINDS
    }
    for obj in installed.objects:
        if obj["kind"] == "ValidatingWebhookConfiguration" and any(
            "istio.io" in group
            for hook in obj.get("webhooks", [])
            for rule in hook.get("rules", [])
            for group in rule.get("apiGroups", [])
        ):
            found.add("the validating webhook for Istio config")
    return found


def find_collisions(stable: Installed, revision: Installed) -> list[Collision]:
    """Every reason ``stable`` and ``revision`` cannot be installed side by side."""
    collisions = list(_object_collisions(stable, revision))
    collisions += _injector_collisions(stable, revision)
    for singleton in sorted(_singletons(stable) & _singletons(revision)):
        collisions.append(Collision("singleton", f"{singleton} is defined by both control planes"))
    return collisions


def rendered_installed(label: str, tree: ChartTree, namespace: str) -> Installed:
    """A chart tree rendered as installed into ``namespace`` with its example values."""
    values = tree.example_values()
    return Installed(
        label,
        namespace,
        render_objects(tree, release=tree.name, namespace=namespace, values=values),
    )


def coexistence_collisions(
    stable: ChartTree, revision_chart: ChartTree, *, revision: str, namespaces: tuple[str, str]
) -> list[Collision]:
    """Render both control planes in their namespaces (no helm needed) and compare them."""
    return find_collisions(
        rendered_installed("stable", stable, namespaces[0]),
        rendered_installed(f"revision {revision}", revision_chart, namespaces[1]),
    )


def check_coexistence(
    stable: ChartTree, revision_chart: ChartTree, *, revision: str, namespaces: tuple[str, str]
) -> None:
    """Refuse a revision that cannot run beside the stable control plane.

    Raises:
        CollisionError: listing every collision.
    """
    collisions = coexistence_collisions(
        stable, revision_chart, revision=revision, namespaces=namespaces
    )
    if collisions:
        profile = revision_chart.metadata["annotations"]["meshcharts.io/profile"]
        details = "; ".join(f"{c.kind}: {c.detail}" for c in collisions)
        raise CollisionError(
            f"revision {revision!r} of profile {profile!r}",
            f"cannot run beside the stable control plane: {details}",
        )
