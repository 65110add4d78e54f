"""A small OCI distribution client (standard library only) for pushing Helm charts.

It speaks just what publishing a chart needs: ``HEAD``/``PUT`` of manifests, ``HEAD`` of
blobs, monolithic blob uploads (``POST`` then ``PUT ?digest=``) and the tag list. No
authentication: registries that answer 401 are reported as a user error.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshcharts.errors import UserError

__all__ = [
    "CHART_LAYER",
    "CONFIG_MEDIA",
    "MANIFEST_MEDIA",
    "PROV_LAYER",
    "OciClient",
    "OciRef",
    "chart_config",
    "chart_manifest",
    "digest_of",
    "parse_oci",
]

MANIFEST_MEDIA = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA = "application/vnd.cncf.helm.config.v1+json"
CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
PROV_LAYER = "application/vnd.cncf.helm.chart.provenance.v1.prov"

# Helm's chart.Metadata struct order (its JSON encoding of the config blob).
_CONFIG_FIELDS = (
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
)


def digest_of(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class OciRef:
    """An ``oci://HOST[:PORT]/PATH`` target.

    Attributes:
        host: ``HOST[:PORT]``.
        path: the repository path prefix (no leading or trailing slash).
    """

    host: str
    path: str

    def repository(self, *names: str) -> str:
        """The repository name ``PATH/NAME/...``."""
        return "/".join(p for p in (self.path, *names) if p)


def parse_oci(target: str) -> OciRef:
    """Parse ``oci://HOST[:PORT]/PATH``."""
    rest = target.removeprefix("oci://")
    host, _, path = rest.partition("/")
    if not host or any(c in host for c in "@?#") or "+" in path:
        raise UserError(target, "not an oci://HOST[:PORT]/PATH reference")
    return OciRef(host, path.strip("/"))


def _go_json(value: Any) -> bytes:
    """Compact JSON as Go's encoding/json writes it: map keys sorted by the caller, HTML escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _sorted_maps(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _sorted_maps(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_maps(v) for v in value]
    return value


_STRUCT_FIELDS = {
    "maintainers": ("name", "email", "url"),
    "dependencies": (
        "name",
        "version",
        "repository",
        "condition",
        "tags",
        "enabled",
        "import-values",
        "alias",
    ),
}


def _struct_list(key: str, items: Any) -> Any:
    fields = _STRUCT_FIELDS[key]
    return [
        {f: _sorted_maps(item[f]) for f in fields if item.get(f) not in (None, "", [], {})}
        for item in items
    ]


def chart_config(metadata: Mapping[str, Any]) -> bytes:
    """The Helm config blob: Chart.yaml metadata as compact JSON, as ``helm push`` writes it.

    Helm's ``chart.Metadata`` fields in struct order, empty ones left out; maps (the
    annotations) with sorted keys; ``<``, ``>`` and ``&`` escaped as Go does.
    """
    ordered = {
        k: _struct_list(k, metadata[k]) if k in _STRUCT_FIELDS else _sorted_maps(metadata[k])
        for k in _CONFIG_FIELDS
        if metadata.get(k) not in (None, "", [], {}, False)
    }
    return _go_json(ordered)


def _descriptor(media: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media, "digest": digest_of(data), "size": len(data)}


def chart_manifest(
    metadata: Mapping[str, Any], config: bytes, chart: bytes, prov: bytes | None, created: str
) -> bytes:
    """The OCI image manifest of a chart, byte for byte as ``helm push`` writes it.

    ``created`` is what Helm takes from the package file's mtime: pinned here, so the same
    package always gets the same manifest digest (the one ``helm push`` gives a package
    whose mtime is that time). The media type travels in the ``Content-Type`` header.
    """
    annotations: dict[str, str] = {
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.title": str(metadata["name"]),
        "org.opencontainers.image.version": str(metadata["version"]),
    }
    if metadata.get("description"):
        annotations["org.opencontainers.image.description"] = str(metadata["description"])
    if metadata.get("home"):
        annotations["org.opencontainers.image.url"] = str(metadata["home"])
    if metadata.get("sources"):
        annotations["org.opencontainers.image.source"] = str(metadata["sources"][0])
    if metadata.get("maintainers"):
        annotations["org.opencontainers.image.authors"] = ", ".join(
            str(m.get("name", "")) + (f" ({m['email']})" if m.get("email") else "")
            for m in metadata["maintainers"]
        )
    for key, value in (metadata.get("annotations") or {}).items():
        annotations.setdefault(str(key), str(value))
    layers = [_descriptor(CHART_LAYER, chart)]
    if prov is not None:
        layers.append(_descriptor(PROV_LAYER, prov))
    manifest = {
        "schemaVersion": 2,
        "config": _descriptor(CONFIG_MEDIA, config),
        "layers": layers,
        "annotations": dict(sorted(annotations.items())),
    }
    return _go_json(manifest)


class OciClient:
    """A registry at ``host`` over HTTP(S), every request bounded by ``timeout`` seconds."""

    def __init__(self, host: str, *, plain_http: bool = False, timeout: float = 60) -> None:
        self.base = f"{'http' if plain_http else 'https'}://{host}"
        self.timeout = timeout

    def _request(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        missing_ok: bool = False,
    ) -> tuple[int, dict[str, str], bytes] | None:
        full = url if url.startswith(("http://", "https://")) else self.base + url
        request = urllib.request.Request(
            full, data=data, method=method, headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, head, body = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            if missing_ok and exc.code == 404:
                return None
            detail = exc.read()[:300].decode(errors="replace").strip()
            if exc.code == 401:
                raise UserError(
                    self.base, "the registry asks for credentials (unsupported)"
                ) from None
            raise UserError(f"{method} {full}", f"HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UserError(f"{method} {full}", f"registry unreachable: {reason}") from None
        if status not in ok:
            raise UserError(f"{method} {full}", f"unexpected HTTP {status}")
        return status, head, body

    def ping(self) -> None:
        """``GET /v2/``: the registry answers the distribution API."""
        self._request("GET", "/v2/")

    def blob_exists(self, repo: str, digest: str) -> bool:
        """Whether ``repo`` has blob ``digest``."""
        return self._request("HEAD", f"/v2/{repo}/blobs/{digest}", missing_ok=True) is not None

    def push_blob(self, repo: str, data: bytes) -> str:
        """Upload ``data`` to ``repo`` unless it is there already; returns its digest."""
        digest = digest_of(data)
        if self.blob_exists(repo, digest):
            return digest
        started = self._request("POST", f"/v2/{repo}/blobs/uploads/", data=b"", ok=(202,))
        assert started is not None
        location = {k.lower(): v for k, v in started[1].items()}["location"]
        location = urllib.parse.urljoin(self.base + "/", location)
        joiner = "&" if "?" in location else "?"
        self._request(
            "PUT",
            f"{location}{joiner}digest={urllib.parse.quote(digest)}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            ok=(201, 204),
        )
        return digest

    def manifest(self, repo: str, reference: str) -> bytes | None:
        """The manifest of ``repo:reference``, or None if there is none."""
        result = self._request(
            "GET",
            f"/v2/{repo}/manifests/{reference}",
            headers={"Accept": MANIFEST_MEDIA},
            missing_ok=True,
        )
        return None if result is None else result[2]

    def put_manifest(self, repo: str, reference: str, manifest: bytes) -> None:
        """Store ``manifest`` as ``repo:reference``."""
        self._request(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            data=manifest,
            headers={"Content-Type": MANIFEST_MEDIA},
            ok=(201,),
        )

    def tags(self, repo: str) -> list[str]:
        """The tags of ``repo`` (empty when the repository does not exist)."""
        result = self._request("GET", f"/v2/{repo}/tags/list", missing_ok=True)
        if result is None:
            return []
        return list(json.loads(result[2]).get("tags") or [])
