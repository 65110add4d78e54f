"""A small OCI distribution client (standard library only) for pushing Helm charts.

It speaks just what publishing a chart needs: ``HEAD``/``PUT`` of manifests, ``HEAD`` of
blobs, monolithic blob uploads (``POST`` then ``PUT ?digest=``) and the tag list. No
authentication: registries that answer 401 are reported as a user error.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshcharts.base.limits import MAX_RESPONSE, LimitError, load_json, sizes
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
    """A registry at ``host`` over HTTP(S).

    Every request has a total deadline of ``timeout`` seconds, connection and whole reply
    included (a server that trickles its answer cannot hold a publish longer), and every
    reply body read is bounded by :data:`~meshcharts.base.limits.MAX_RESPONSE`.
    """

    def __init__(self, host: str, *, plain_http: bool = False, timeout: float = 60) -> None:
        self.host = host
        self.scheme = "http" if plain_http else "https"
        self.base = f"{self.scheme}://{host}"
        self.timeout = timeout

    def _connection(self, netloc: str, scheme: str, deadline: float) -> http.client.HTTPConnection:
        remaining = max(deadline - time.monotonic(), 0.001)
        if scheme == "https":
            return http.client.HTTPSConnection(
                netloc, timeout=remaining, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(netloc, timeout=remaining)

    def _read(
        self, response: http.client.HTTPResponse, sock: Any, deadline: float, what: str
    ) -> bytes:
        """The reply body, within the deadline and the size limit."""
        chunks: list[bytes] = []
        total = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if sock is not None:
                sock.settimeout(remaining)
            chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > MAX_RESPONSE:
                raise LimitError(what, f"the reply is larger than {sizes(MAX_RESPONSE)}")
            chunks.append(chunk)

    def _exchange(
        self, method: str, full: str, data: bytes | None, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urllib.parse.urlsplit(full)
        deadline = time.monotonic() + self.timeout
        connection = self._connection(parts.netloc, parts.scheme, deadline)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        what = f"{method} {full}"
        try:
            connection.request(method, target or "/", body=data, headers=dict(headers))
            response = connection.getresponse()
            head = {k.lower(): v for k, v in response.getheaders()}
            body = (
                b"" if method == "HEAD" else self._read(response, connection.sock, deadline, what)
            )
            return response.status, head, body
        finally:
            connection.close()

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
        what = f"{method} {full}"
        try:
            status, head, body = self._exchange(method, full, data, headers or {})
        except TimeoutError:
            raise UserError(
                self.host, f"no complete answer within {self.timeout:g} s ({method} {url})"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UserError(what, f"registry unreachable: {reason}") from None
        if missing_ok and status == 404:
            return None
        if status == 401:
            raise UserError(self.base, "the registry asks for credentials (unsupported)")
        if status not in ok:
            detail = " ".join(body[:300].decode(errors="replace").split())
            raise UserError(what, f"HTTP {status} {detail}".strip())
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
        location = started[1].get("location")
        if not location:
            raise UserError(f"POST {self.base}/v2/{repo}/blobs/uploads/", "no Location in reply")
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
        listing = load_json(result[2], f"{self.base}/v2/{repo}/tags/list")
        tags = listing.get("tags") if isinstance(listing, dict) else None
        if tags is None:
            return []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise UserError(f"{self.base}/v2/{repo}/tags/list", "tags is not a list of strings")
        return list(tags)
