"""A small OCI distribution client (standard library only) for Helm charts.

It speaks what publishing and pulling a chart need: manifests, blobs (monolithic or chunked
uploads), the tag list; over HTTPS with the system trust store, a CA file and client
certificates, or plain HTTP when asked; with HTTP basic or the Distribution token flow
(credentials from :mod:`meshcharts.publish.credentials`); with retries on overload.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from meshcharts.base.limits import MAX_PACKAGE, MAX_RESPONSE, LimitError, load_json, sizes
from meshcharts.errors import UserError
from meshcharts.publish.credentials import Credentials, remember_login

__all__ = [
    "CHART_LAYER",
    "CONFIG_MEDIA",
    "Connection",
    "MANIFEST_MEDIA",
    "PROV_LAYER",
    "OciClient",
    "OciRef",
    "chart_config",
    "chart_manifest",
    "digest_of",
    "login",
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


RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
MAX_ATTEMPTS: Final = 5
MAX_BACKOFF: Final = 8.0
MAX_RETRY_AFTER: Final = 30.0
MAX_REDIRECTS: Final = 5
CHUNK: Final = 5 * 1024 * 1024
"""Chunk size of a chunked (PATCH) upload, when the registry asks for one."""


@dataclass(frozen=True)
class Connection:
    """How to reach a registry: the scheme, TLS trust and client certificate, the deadline.

    Attributes:
        plain_http: plain HTTP instead of HTTPS (only when asked for).
        ca_file: PEM certificates to trust besides the system's.
        cert_file: a client certificate (PEM) for registries that want one.
        key_file: its private key (PEM; default: in ``cert_file``).
        insecure: HTTPS without checking the certificate (``--insecure-skip-tls-verify``).
        timeout: the deadline of each request in seconds, connection and whole reply.
    """

    plain_http: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False
    timeout: float = 60

    def context(self) -> ssl.SSLContext:
        """The TLS context of every HTTPS connection.

        Raises:
            UserError: a CA file or client certificate that cannot be loaded.
        """
        try:
            context = ssl.create_default_context()
            if self.ca_file is not None:
                context.load_verify_locations(cafile=str(self.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise UserError(
                f"--ca-file {self.ca_file}", f"cannot be loaded: {_reason(exc)}"
            ) from None
        if self.cert_file is not None:
            try:
                context.load_cert_chain(str(self.cert_file), str(self.key_file or self.cert_file))
            except (OSError, ssl.SSLError) as exc:
                raise UserError(
                    f"--cert-file {self.cert_file}", f"cannot be loaded: {_reason(exc)}"
                ) from None
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _reason(exc: BaseException) -> str:
    return " ".join(
        str(getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc).split()
    )


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="...",service="..."`` -> ``("bearer", {"realm": ..., ...})``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {key.lower(): value for key, value in re.findall(r'([A-Za-z_]+)="([^"]*)"', rest)}
    return scheme.lower(), params


@dataclass
class _Token:
    value: str
    expires: float


class OciClient:
    """A registry at ``host`` over HTTPS (or plain HTTP when asked), authenticated as needed.

    Authentication follows the registry's challenge, as Helm and the Distribution spec do:
    a 401 with ``WWW-Authenticate: Basic`` is answered with the credentials; one with
    ``Bearer realm=...,service=...,scope=...`` by fetching a token from the realm (with
    the credentials, or anonymously), kept per scope until it expires. 429, 502, 503 and
    504 answers and broken connections are retried with backoff (``Retry-After`` honoured),
    up to :data:`MAX_ATTEMPTS` times. Redirects are followed; the registry's Authorization
    header is never sent to another host (a blob store).

    Every request has a total deadline (connection and whole reply), and every reply body
    read is bounded by :data:`~meshcharts.base.limits.MAX_RESPONSE`.
    """

    def __init__(
        self,
        host: str,
        *,
        plain_http: bool = False,
        timeout: float = 60,
        connection: Connection | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.host = host
        self.connection = connection or Connection(plain_http=plain_http, timeout=timeout)
        self.scheme = "http" if self.connection.plain_http else "https"
        self.base = f"{self.scheme}://{host}"
        self.timeout = self.connection.timeout
        self.credentials = credentials
        self._context: ssl.SSLContext | None = None
        self._basic = False
        self._tokens: dict[str, _Token] = {}

    # --- one HTTP exchange --------------------------------------------------------------

    def _connect(self, netloc: str, scheme: str, deadline: float) -> http.client.HTTPConnection:
        remaining = max(deadline - time.monotonic(), 0.001)
        if scheme == "https":
            if self._context is None:
                self._context = self.connection.context()
            return http.client.HTTPSConnection(netloc, timeout=remaining, context=self._context)
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
        connection = self._connect(parts.netloc, parts.scheme, deadline)
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

    def _follow(
        self, method: str, full: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """One exchange, following redirects (without the Authorization of another host)."""
        origin = urllib.parse.urlsplit(full).netloc
        for _ in range(MAX_REDIRECTS + 1):
            status, head, body = self._exchange(method, full, data, headers)
            location = head.get("location")
            if (
                status not in (301, 302, 303, 307, 308)
                or not location
                or method in ("POST", "PATCH")
            ):
                return status, head, body
            full = urllib.parse.urljoin(full, location)
            if urllib.parse.urlsplit(full).netloc != origin:
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if status == 303:
                method, data = "GET", None
        raise UserError(f"{method} {full}", f"more than {MAX_REDIRECTS} redirects")

    # --- authentication -----------------------------------------------------------------

    def _auth_header(self, scope: str) -> dict[str, str]:
        token = self._tokens.get(scope)
        if token is not None and token.expires > time.monotonic():
            return {"Authorization": f"Bearer {token.value}"}
        if self._basic and self.credentials is not None:
            return {"Authorization": self.credentials.basic()}
        return {}

    def _who(self) -> str:
        return self.credentials.source if self.credentials else "no credentials (anonymous)"

    def _authorize(self, challenge: str, scope: str, what: str) -> None:
        """Answer a 401: remember to send Basic credentials, or fetch a Bearer token."""
        kind, params = _challenge(challenge)
        if kind == "basic":
            if self.credentials is None:
                raise UserError(
                    f"registry {self.host}",
                    "asks for credentials: log in with meshcharts registry login, or give "
                    "--username and --password-stdin",
                )
            self._basic = True
            return
        if kind != "bearer" or not params.get("realm"):
            raise UserError(what, f"unsupported authentication challenge {challenge[:100]!r}")
        query = {"service": params.get("service", "")}
        if params.get("scope") or scope:
            query["scope"] = params.get("scope") or scope
        realm = params["realm"]
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        headers = {"Authorization": self.credentials.basic()} if self.credentials else {}
        status, _, body = self._retrying("GET", url, None, headers, what=f"token {realm}")
        if status in (401, 403):
            raise UserError(
                f"registry {self.host}",
                f"the token service {realm} refused {self._who()} (HTTP {status})",
            )
        if status != 200:
            raise UserError(f"token {realm}", f"HTTP {status}")
        reply = load_json(body, f"token {realm}")
        value = reply.get("token") or reply.get("access_token") if isinstance(reply, dict) else None
        if not isinstance(value, str) or not value:
            raise UserError(f"token {realm}", "the reply holds no token")
        lifetime = reply.get("expires_in") if isinstance(reply, dict) else None
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 60.0
        # Renewed a little early: a token must not expire between check and use.
        self._tokens[scope] = _Token(value, time.monotonic() + max(seconds - 5, 1))

    # --- retries ------------------------------------------------------------------------

    def _retrying(
        self,
        method: str,
        full: str,
        data: bytes | None,
        headers: dict[str, str],
        *,
        what: str,
    ) -> tuple[int, dict[str, str], bytes]:
        """An exchange retried on 429/502/503/504 and broken connections, with backoff."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                status, head, body = self._follow(method, full, data, headers)
            except TimeoutError:
                raise UserError(
                    self.host, f"no complete answer within {self.timeout:g} s ({what})"
                ) from None
            except ssl.SSLCertVerificationError as exc:
                raise UserError(
                    f"registry {self.host}",
                    f"TLS certificate not trusted ({_reason(exc)}); give its CA with --ca-file",
                ) from None
            except ssl.SSLError as exc:
                raise UserError(
                    f"registry {self.host}",
                    f"TLS handshake failed ({_reason(exc)}); a registry that asks for a client "
                    "certificate needs --cert-file and --key-file",
                ) from None
            except (ConnectionResetError, ConnectionAbortedError, http.client.RemoteDisconnected):
                if attempt == MAX_ATTEMPTS:
                    raise UserError(what, f"the connection broke {MAX_ATTEMPTS} times") from None
                time.sleep(self._backoff(attempt, None))
                continue
            except (OSError, http.client.HTTPException) as exc:
                raise UserError(what, f"registry unreachable: {_reason(exc)}") from None
            if status not in RETRY_STATUSES or attempt == MAX_ATTEMPTS:
                return status, head, body
            time.sleep(self._backoff(attempt, head.get("retry-after")))
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _backoff(attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: Retry-After, else doubling."""
        if retry_after is not None and retry_after.strip().isdigit():
            return min(float(retry_after.strip()), MAX_RETRY_AFTER)
        return float(min(0.5 * 2 ** (attempt - 1), MAX_BACKOFF))

    # --- requests -----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        missing_ok: bool = False,
        scope: str = "",
    ) -> tuple[int, dict[str, str], bytes] | None:
        full = url if url.startswith(("http://", "https://")) else self.base + url
        what = f"{method} {full}"
        for answered_challenge in (False, True):
            sent = {**(headers or {}), **self._auth_header(scope)}
            status, head, body = self._retrying(method, full, data, sent, what=what)
            if status != 401 or answered_challenge:
                break
            challenge = head.get("www-authenticate", "")
            if not challenge:
                break
            self._tokens.pop(scope, None)  # expired or too narrow: fetch another
            self._authorize(challenge, scope, what)
        if missing_ok and status == 404:
            return None
        if status in (401, 403):
            raise self._denied(status, head, body, scope)
        if status not in ok:
            detail = " ".join(body[:300].decode(errors="replace").split())
            raise UserError(what, f"HTTP {status} {detail}".strip())
        return status, head, body

    def _denied(self, status: int, head: dict[str, str], body: bytes, scope: str) -> UserError:
        repository = scope.split(":")[1] if scope.count(":") >= 2 else "(the registry)"
        _, params = _challenge(head.get("www-authenticate", ""))
        detail = params.get("error", "")
        try:
            errors = json.loads(body.decode()).get("errors", [])
            detail = detail or str(errors[0].get("code", "")).lower()
        except (ValueError, AttributeError, IndexError, TypeError):
            pass
        what = "unauthorized" if status == 401 else "denied"
        return UserError(
            f"registry {self.host}",
            f"{what} for repository {repository} with {self._who()}"
            + (f" ({detail})" if detail else ""),
        )

    def ping(self) -> None:
        """``GET /v2/``: the registry answers the distribution API (and the credentials work)."""
        self._request("GET", "/v2/")

    def blob_exists(self, repo: str, digest: str) -> bool:
        """Whether ``repo`` has blob ``digest``."""
        found = self._request(
            "HEAD", f"/v2/{repo}/blobs/{digest}", missing_ok=True, scope=_push(repo)
        )
        return found is not None

    def push_blob(self, repo: str, data: bytes) -> str:
        """Upload ``data`` to ``repo`` unless it is there already; returns its digest.

        Monolithic (``POST``, then ``PUT ?digest=`` with the data) unless the registry asks
        for chunks (``OCI-Chunk-Min-Length``): then ``PATCH`` chunks and a closing ``PUT``.
        """
        digest = digest_of(data)
        if self.blob_exists(repo, digest):
            return digest
        started = self._request(
            "POST", f"/v2/{repo}/blobs/uploads/", data=b"", ok=(202,), scope=_push(repo)
        )
        assert started is not None
        location = self._location(started[1], f"POST {self.base}/v2/{repo}/blobs/uploads/")
        minimum = started[1].get("oci-chunk-min-length", "")
        body = data
        if minimum.isdigit():
            location = self._patch_chunks(repo, location, data, max(int(minimum), CHUNK))
            body = b""
        joiner = "&" if "?" in location else "?"
        self._request(
            "PUT",
            f"{location}{joiner}digest={urllib.parse.quote(digest)}",
            data=body,
            headers={"Content-Type": "application/octet-stream"},
            ok=(201, 204),
            scope=_push(repo),
        )
        return digest

    def _location(self, head: Mapping[str, str], what: str) -> str:
        location = head.get("location")
        if not location:
            raise UserError(what, "no Location in reply")
        return urllib.parse.urljoin(self.base + "/", location)

    def _patch_chunks(self, repo: str, location: str, data: bytes, size: int) -> str:
        """Send ``data`` in ``PATCH`` chunks; the upload's location for its closing PUT."""
        for start in range(0, len(data), size):
            chunk = data[start : start + size]
            answer = self._request(
                "PATCH",
                location,
                data=chunk,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{start}-{start + len(chunk) - 1}",
                },
                ok=(202,),
                scope=_push(repo),
            )
            assert answer is not None
            location = self._location(answer[1], f"PATCH {location}")
        return location

    def manifest(self, repo: str, reference: str, *, pull_only: bool = False) -> bytes | None:
        """The manifest of ``repo:reference``, or None if there is none."""
        result = self._request(
            "GET",
            f"/v2/{repo}/manifests/{reference}",
            headers={"Accept": MANIFEST_MEDIA},
            missing_ok=True,
            scope=_pull(repo) if pull_only else _push(repo),
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
            scope=_push(repo),
        )

    def tags(self, repo: str, *, pull_only: bool = False) -> list[str]:
        """The tags of ``repo`` (empty when the repository does not exist)."""
        scope = _pull(repo) if pull_only else _push(repo)
        result = self._request("GET", f"/v2/{repo}/tags/list", missing_ok=True, scope=scope)
        if result is None:
            return []
        listing = load_json(result[2], f"{self.base}/v2/{repo}/tags/list")
        tags = listing.get("tags") if isinstance(listing, dict) else None
        if tags is None:
            return []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise UserError(f"{self.base}/v2/{repo}/tags/list", "tags is not a list of strings")
        return list(tags)

    def pull_chart(self, repo: str, tag: str) -> bytes:
        """The chart package of ``repo:tag`` (its content layer), checked against its digest.

        Raises:
            UserError: no such chart, not a Helm chart, or a blob that is not what the
                manifest says.
        """
        where = f"oci://{self.host}/{repo}:{tag}"
        manifest = self.manifest(repo, tag, pull_only=True)
        if manifest is None:
            raise UserError(where, "no such chart in the registry")
        found = load_json(manifest, where)
        layers = found.get("layers") if isinstance(found, dict) else None
        charts = [
            layer
            for layer in (layers if isinstance(layers, list) else [])
            if isinstance(layer, dict) and layer.get("mediaType") == CHART_LAYER
        ]
        if len(charts) != 1 or not isinstance(charts[0].get("digest"), str):
            raise UserError(where, "is not a Helm chart (no single chart content layer)")
        digest = charts[0]["digest"]
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            raise UserError(where, f"layer digest {digest[:80]!r} is not sha256:<hex>")
        blob = self._request("GET", f"/v2/{repo}/blobs/{digest}", scope=_pull(repo))
        assert blob is not None
        if len(blob[2]) > MAX_PACKAGE:
            raise LimitError(where, f"the chart is larger than {sizes(MAX_PACKAGE)}")
        if digest_of(blob[2]) != digest:
            raise UserError(where, "the chart's bytes do not match the manifest's digest")
        return blob[2]


def _push(repo: str) -> str:
    return f"repository:{repo}:pull,push"


def _pull(repo: str) -> str:
    return f"repository:{repo}:pull"


def login(host: str, credentials: Credentials, connection: Connection, config: Path) -> None:
    """Check ``credentials`` against the registry, then keep them in Helm's registry config.

    Raises:
        UserError: the registry refuses them or cannot be reached; nothing is written.
    """
    OciClient(host, connection=connection, credentials=credentials).ping()
    remember_login(host, credentials, config)
