"""The staged upgrade plan of a canary control-plane upgrade, as Istio 1.0 operators ran it.

prepare (back up) -> crds -> gateways -> canary control plane -> canary sidecars in a
non-critical namespace -> validate telemetry, tracing, retries and timeouts on one service
-> enforce strict mTLS, then RBAC -> retire the old control plane. Every step carries the
commands to run, what must hold before it, and how to check it worked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from meshcharts.base.names import check_dns_label, check_version, revision_version
from meshcharts.errors import UserError, VersionError

__all__ = [
    "STEP_IDS",
    "Plan",
    "PlanStep",
    "check_packages",
    "plan_json",
    "plan_markdown",
    "plan_text",
    "upgrade_plan",
]

STEP_IDS = (
    "prepare",
    "crds",
    "gateways",
    "canary-control-plane",
    "canary-sidecars",
    "validate",
    "enforce-policies",
    "retire-old",
)

_BACKUPS = {
    "mixer-config": "handlers,instances,rules,attributemanifests,adapters,templates,"
    "quotaspecs,quotaspecbindings",
    "authentication": "policies.authentication.istio.io,meshpolicies.authentication.istio.io",
    "rbac": "rbacconfigs,clusterrbacconfigs,serviceroles,servicerolebindings",
    "networking": "virtualservices,destinationrules,gateways,serviceentries,envoyfilters",
}


@dataclass(frozen=True)
class PlanStep:
    """One stage of the upgrade."""

    id: str
    title: str
    why: str
    preconditions: tuple[str, ...]
    commands: tuple[str, ...]
    checks: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """An ordered upgrade plan from one chart version to another."""

    profile: str
    from_version: str
    to_version: str
    revision: str
    namespace: str
    canary_namespace: str
    steps: tuple[PlanStep, ...]
    packages: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Context:
    profile: str
    old: str
    new: str
    revision: str
    ns: str
    canary_ns: str
    charts: str
    workload_ns: str
    service: str
    values_file: str = ""
    previous: str = ""

    @property
    def values_flag(self) -> str:
        """`` -f <values file>`` of an environment, or nothing."""
        return f" -f {self.values_file}" if self.values_file else ""

    @property
    def canary_version(self) -> str:
        return revision_version(self.new, self.revision)

    def package(self, chart: str, version: str) -> str:
        folder = (self.previous or self.charts) if version == self.old else self.charts
        return f"{folder}/{self.profile}/{chart}-{version}.tgz"

    @property
    def packages(self) -> tuple[str, ...]:
        """Every package the plan's commands install or upgrade."""
        return (
            self.package("istio-init", self.new),
            self.package("istio", self.old),
            self.package("istio", self.canary_version),
        )


def _prepare(c: _Context) -> PlanStep:
    backups = tuple(
        f"kubectl get {kinds} --all-namespaces -o yaml > backup-{name}.yaml"
        for name, kinds in _BACKUPS.items()
    )
    return PlanStep(
        "prepare",
        "Back up custom adapters, policies and authentication configs",
        "A failed upgrade must be recoverable: these objects are the mesh's own configuration.",
        (
            f"helm status istio --namespace {c.ns} shows chart istio-{c.old} deployed",
            "kubectl points at the cluster to upgrade",
        ),
        (*backups, f"helm get values istio --namespace {c.ns} --all > backup-istio-values.yaml"),
        ("every backup parses: kubectl apply --dry-run=client -f backup-<name>.yaml",),
    )


def _crds(c: _Context) -> PlanStep:
    return PlanStep(
        "crds",
        f"Upgrade the CRDs (istio-init {c.new}) first",
        "Both control planes read the same CRDs; the new one may need new kinds or fields.",
        ("prepare is done",),
        (f"helm upgrade --install istio-init {c.package('istio-init', c.new)} --namespace {c.ns}",),
        (
            "kubectl wait --for condition=established --timeout=60s "
            "crd/virtualservices.networking.istio.io crd/meshpolicies.authentication.istio.io",
            "kubectl get crds -o name | grep -c 'istio.io'",
        ),
    )


def _gateways(c: _Context) -> PlanStep:
    return PlanStep(
        "gateways",
        "Upgrade the gateway proxies before any sidecar",
        "Gateways talk to every sidecar; upgrading them first avoids TLS negotiation failures "
        "between new sidecars and old gateways.",
        ("crds is done",),
        (
            f"helm upgrade istio {c.package('istio', c.old)} --namespace {c.ns} --reuse-values "
            f"--set-string gateways.istio-ingressgateway.tag={c.new} "
            f"--set-string gateways.istio-egressgateway.tag={c.new}",
        ),
        (
            f"kubectl --namespace {c.ns} rollout status deployment/istio-ingressgateway",
            f"kubectl --namespace {c.ns} get deployment istio-ingressgateway "
            "-o jsonpath='{.spec.template.spec.containers[0].image}'",
            "curl -sS -o /dev/null -w '%{http_code}' http://<ingress address>/ returns the "
            "same codes as before",
        ),
    )


def _canary_control_plane(c: _Context) -> PlanStep:
    return PlanStep(
        "canary-control-plane",
        f"Install the canary control plane (revision {c.revision}) beside the stable one",
        "Both control planes run side by side; no workload moves yet.",
        (
            "gateways is done",
            f"meshcharts check-coexist --profile {c.profile} --revision {c.revision} passes",
        ),
        (
            f"helm install istio-{c.revision} {c.package('istio', c.canary_version)} "
            f"--namespace {c.canary_ns} --create-namespace --devel{c.values_flag}",
        ),
        (
            f"kubectl --namespace {c.canary_ns} rollout status deployment/istio-pilot-{c.revision}",
            f"kubectl get mutatingwebhookconfiguration istio-sidecar-injector-{c.revision}",
            f"kubectl --namespace {c.ns} get pods  # the stable control plane is untouched",
        ),
    )


def _canary_sidecars(c: _Context) -> PlanStep:
    return PlanStep(
        "canary-sidecars",
        f"Move one non-critical namespace ({c.workload_ns}) to the canary sidecars",
        "The istio-injection label wins over istio.io/rev, so it must be removed.",
        ("canary-control-plane is done", f"{c.workload_ns} is not business-critical"),
        (
            f"kubectl label namespace {c.workload_ns} istio-injection- istio.io/rev={c.revision} "
            "--overwrite",
            f"kubectl --namespace {c.workload_ns} rollout restart deployment",
        ),
        (
            f"kubectl --namespace {c.workload_ns} get pods -o jsonpath="
            "'{..metadata.labels.istio\\.io/rev}'",
            f"kubectl --namespace {c.workload_ns} get pods  # all Running, 2/2 containers",
        ),
    )


def _validate(c: _Context) -> PlanStep:
    svc, ns = c.service, c.workload_ns
    return PlanStep(
        "validate",
        f"Validate telemetry, tracing, retries and timeouts on one service ({svc})",
        "Flaky telemetry loses trust fastest; check one service before standardising.",
        ("canary-sidecars is done",),
        (
            f"kubectl --namespace {ns} exec deploy/{svc} -c istio-proxy -- "
            "curl -s localhost:15000/stats | grep -E 'upstream_rq_(retry|timeout)'",
            f"kubectl --namespace {ns} exec deploy/{svc} -c istio-proxy -- "
            "curl -s localhost:15090/stats/prometheus | head",
            f"kubectl --namespace {c.ns} port-forward svc/prometheus 9090:9090 & "
            "curl -s 'localhost:9090/api/v1/query?query=istio_requests_total"
            f'{{destination_service_namespace="{ns}"}}\'',
            f"kubectl --namespace {c.ns} port-forward svc/tracing 16686:80  # find {svc} traces",
            f"kubectl --namespace {ns} get virtualservice -o yaml  # timeout and retries set",
        ),
        (
            f"istio_requests_total has series for {svc}",
            f"traces of {svc} appear in the tracing UI",
            "the retry and timeout counters move when the upstream is slowed "
            "(fault injection on a test route)",
        ),
    )


def _enforce(c: _Context) -> PlanStep:
    # The mesh-wide MeshPolicy and ClusterRbacConfig belong to the singleton owner, which is
    # still the stable release.
    stable = f"helm upgrade istio {c.package('istio', c.old)} --namespace {c.ns} --reuse-values"
    return PlanStep(
        "enforce-policies",
        "Enforce mutual TLS mesh-wide (permissive, then strict), then RBAC",
        "Strict mTLS before every workload is injected, or before the gateways are upgraded, "
        "looks like a random outage. The stable release still owns the mesh-wide policies.",
        (
            "validate is done",
            "every namespace in mesh.namespaces is injected "
            f"(meshcharts lint --profile {c.profile} reports no MTLS errors)",
        ),
        (
            f"{stable} --set global.mtls.mode=permissive",
            f"{stable} --set global.mtls.mode=strict",
            f"{stable} --set security.rbac.mode=ON_WITH_INCLUSION "
            f"--set security.rbac.inclusion.namespaces={{{c.workload_ns}}}",
        ),
        (
            "kubectl get meshpolicy default -o jsonpath='{.spec.peers}'",
            f"kubectl --namespace {c.workload_ns} exec deploy/{c.service} -c istio-proxy -- "
            "curl -s localhost:15000/stats | grep ssl.handshake",
            "kubectl get clusterrbacconfig default -o jsonpath='{.spec.mode}'",
        ),
    )


def _retire(c: _Context) -> PlanStep:
    canary = (
        f"helm upgrade istio-{c.revision} {c.package('istio', c.canary_version)} "
        f"--namespace {c.canary_ns} --reuse-values --devel"
    )
    return PlanStep(
        "retire-old",
        f"Move the remaining namespaces, hand over the singletons, remove the {c.old} plane",
        "Exactly one control plane may own the MeshPolicy, the ClusterRbacConfig and the "
        "validating webhook: the stable release gives them up, the canary takes them with the "
        "same settings, then the old release goes.",
        ("enforce-policies is done", "no namespace carries istio-injection=enabled any more"),
        (
            "kubectl label namespace <each remaining namespace> istio-injection- "
            f"istio.io/rev={c.revision} --overwrite && kubectl rollout restart deployment -n <ns>",
            f"helm upgrade istio {c.package('istio', c.old)} --namespace {c.ns} --reuse-values "
            "--set singletonOwner=false",
            f"{canary} --set singletonOwner=true --set global.mtls.mode=strict "
            "--set security.rbac.mode=ON_WITH_INCLUSION "
            f"--set security.rbac.inclusion.namespaces={{{c.workload_ns}}}",
            f"helm uninstall istio --namespace {c.ns}",
        ),
        (
            f"kubectl get pods --all-namespaces -l 'istio.io/rev,istio.io/rev!={c.revision}' "
            "-o name  # prints nothing",
            "kubectl get validatingwebhookconfigurations,meshpolicies,clusterrbacconfigs "
            "-o custom-columns=NAME:.metadata.name,OWNER:.metadata.annotations."
            "meta\\.helm\\.sh/release-name",
        ),
    )


_STEPS = (
    _prepare,
    _crds,
    _gateways,
    _canary_control_plane,
    _canary_sidecars,
    _validate,
    _enforce,
    _retire,
)


def upgrade_plan(
    profile: str,
    *,
    from_version: str,
    to_version: str,
    revision: str = "canary",
    charts: str = "charts_out",
    workload_namespace: str = "<non-critical namespace>",
    service: str = "<service>",
    values_file: str = "",
    previous: str = "",
) -> Plan:
    """The staged plan to move ``profile`` from ``from_version`` to ``to_version``.

    The new packages are read from the build folder ``charts``; the installed version's
    ``istio`` package (upgraded in place for the gateways, the policies and the hand-over)
    from ``previous``, the build folder of that version (default: ``charts``).

    With ``values_file`` (an environment's values file, ``meshcharts build`` writes it
    beside the packages) the canary control plane is installed with ``-f values_file``;
    later upgrades keep its values with ``--reuse-values``.

    Raises:
        VersionError: a version is not strict SemVer 2, or ``to`` is not newer than ``from``.
        InvalidNameError: the revision is not a DNS-1123 label.
    """
    old, new = check_version(from_version), check_version(to_version)
    if new <= old:
        raise VersionError(f"--to {to_version}", f"is not newer than --from {from_version}")
    check_dns_label(revision, what="revision")
    ns = "istio-system"
    context = _Context(
        profile,
        from_version,
        to_version,
        revision,
        ns,
        f"{ns}-{revision}",
        charts,
        workload_namespace,
        service,
        values_file,
        previous,
    )
    steps = tuple(step(context) for step in _STEPS)
    return Plan(
        profile,
        from_version,
        to_version,
        revision,
        ns,
        context.canary_ns,
        steps,
        context.packages,
    )


def check_packages(plan: Plan) -> None:
    """Raise a UserError naming the first package the plan names that does not exist.

    Raises:
        UserError: a package is missing: it must be built (at its version) first.
    """
    # The order of _Context.packages: the new istio-init, the old istio, the canary istio.
    versions = (plan.to_version, plan.from_version, plan.to_version)
    for package, version in zip(plan.packages, versions, strict=True):
        if not Path(package).is_file():
            folder, _, _ = package.rpartition(f"/{plan.profile}/")
            raise UserError(
                package,
                f"no such package: build it first (meshcharts build --profile {plan.profile} "
                f"--version {version} --build-dir {folder})",
            )


def plan_json(plan: Plan) -> str:
    """The plan as JSON for pipelines."""
    return json.dumps(asdict(plan), indent=2) + "\n"


def _bullets(items: Sequence[str]) -> list[str]:
    return [f"- {item}" for item in items]


def plan_markdown(plan: Plan) -> str:
    """The plan as Markdown for people."""
    lines = [
        f"# Upgrade plan: profile {plan.profile}, {plan.from_version} -> {plan.to_version}",
        "",
        f"Canary revision `{plan.revision}` in `{plan.canary_namespace}` beside the stable "
        f"control plane in `{plan.namespace}`.",
    ]
    for number, step in enumerate(plan.steps, 1):
        lines += ["", f"## {number}. `{step.id}`: {step.title}", "", step.why, ""]
        lines += ["Before:", *_bullets(step.preconditions), "", "Run:", "", "```sh"]
        lines += [*step.commands, "```", "", "Check:", *_bullets(step.checks)]
    return "\n".join(lines) + "\n"


def plan_text(plan: Plan) -> str:
    """The plan as plain text for a terminal: numbered steps, indented commands."""
    lines = [
        f"upgrade plan: profile {plan.profile}, {plan.from_version} -> {plan.to_version}",
        f"canary revision {plan.revision} in {plan.canary_namespace} beside {plan.namespace}",
    ]
    for number, step in enumerate(plan.steps, 1):
        lines += ["", f"{number}. {step.id}: {step.title}", f"   {step.why}", "   before:"]
        lines += [f"     - {item}" for item in step.preconditions]
        lines += ["   run:", *(f"     $ {command}" for command in step.commands), "   check:"]
        lines += [f"     - {item}" for item in step.checks]
    return "\n".join(lines) + "\n"
