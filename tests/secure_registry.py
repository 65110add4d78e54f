"""Secured OCI registries for the tests: TLS, htpasswd (basic) or token auth, a flaky proxy.

Everything listens on 127.0.0.1 only, starts within a bounded time and is stopped after its
scope even when a test fails. Import the fixtures a test module uses by name, together with
``registry_pki`` (the registries depend on it)::

    from secure_registry import (  # noqa: F401 - fixtures, used by name
        basic_registry_fixture,
        registry_pki_fixture,
        token_registry_fixture,
    )

Fixtures:

* ``registry_pki`` (session): a :class:`Pki` - CA, server and client certificates, an
  untrusted second CA and the token issuer's signing certificate, as PEM files.
* ``basic_registry`` (session): a :class:`SecureRegistry` - Debian's ``docker-registry``
  (CNCF Distribution 2.8.2) over TLS with ``auth: htpasswd`` (bcrypt entry).
* ``token_registry`` (session): a :class:`SecureRegistry` with ``auth: token``; its
  ``issuer`` (:class:`TokenIssuer`) serves the Distribution token spec over HTTPS (same CA).
* ``flaky_proxy`` (function): a factory ``flaky_proxy(target, script, tls=True)`` returning a
  :class:`FlakyProxy` that answers the first requests from ``script`` and then forwards.

Functions: :func:`make_pki`, :func:`start_secure_registry` (a context manager, e.g. for a
registry that requires client certificates), :func:`credential_helper`, :func:`helper_config`.

The session registries are shared: push under repository names unique to the test, and change
the issuer only inside ``with registry.issuer.configured(...):`` so it is restored afterwards.

With Helm, address a registry as ``registry.helm_host`` (``LOCALHOST:PORT``, also in
``registry.oci(...)``), not ``registry.host``: Helm 3.17's push and pull talk plain HTTP to
any loopback IP or ``localhost``, ignoring ``--ca-file``. Python clients use ``registry.host``.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, NamedTuple

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from registry import REGISTRY_BINARY, free_port, stop

START_TIMEOUT = 30.0
"""Seconds a registry or server may take to become ready."""
THREAD_STOP_TIMEOUT = 10.0
"""Seconds to wait for a server thread at teardown."""
CONNECTION_TIMEOUT = 30.0
"""Socket timeout of every connection the test servers accept or open."""

USERNAME = "meshcharts"
SERVICE = "meshcharts-test-registry"
ISSUER = "meshcharts-test-issuer"
HELPER_NAME = "meshtest"
"""Credential helper name: the script is ``docker-credential-meshtest``."""

Mode = Literal["basic", "token"]


# --------------------------------------------------------------------------------------------
# PKI


@dataclasses.dataclass(frozen=True)
class Pki:
    """PEM files of the test PKI (all keys unencrypted PKCS#8).

    Attributes:
        folder: Where the files are.
        ca_pem: The trusted CA certificate (pass as ``--ca-file``).
        ca_key: The CA's key, to issue more certificates.
        server_cert: Server certificate for IP ``127.0.0.1`` and DNS ``localhost``.
        server_key: Its key.
        client_cert: Client certificate (``clientAuth``), signed by the CA.
        client_key: Its key.
        other_ca_pem: An unrelated CA that signed nothing here: "untrusted CA" tests.
        token_cert: Self-signed certificate of the token issuer's signing key (the registry's
            ``rootcertbundle``).
        token_key: The issuer's RSA signing key.
    """

    folder: Path
    ca_pem: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_pem: Path
    token_cert: Path
    token_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "meshcharts tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(subject: str, issuer: x509.Name, public_key: Any) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _make_ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(common_name, _name(common_name), key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_leaf(
    common_name: str,
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    usage: x509.ObjectIdentifier,
    names: Sequence[x509.GeneralName] = (),
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(common_name, ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _write_cert(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


def make_pki(folder: Path) -> Pki:
    """Create the test PKI as PEM files in ``folder`` (EC P-256 TLS keys, RSA 2048 token key).

    Args:
        folder: Directory to write into; created when missing.

    Returns:
        The paths, see :class:`Pki`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ca = _make_ca("meshcharts test CA")
    server = _make_leaf(
        "127.0.0.1",
        ca,
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")],
    )
    client = _make_leaf(USERNAME, ca, ExtendedKeyUsageOID.CLIENT_AUTH)
    other_cert, other_key = _make_ca("meshcharts untrusted CA")
    token_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token_cert = (
        _builder(ISSUER, _name(ISSUER), token_key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(token_key, hashes.SHA256())
    )
    return Pki(
        folder=folder,
        ca_pem=_write_cert(folder / "ca.pem", ca[0]),
        ca_key=_write_key(folder / "ca-key.pem", ca[1]),
        server_cert=_write_cert(folder / "server.pem", server[0]),
        server_key=_write_key(folder / "server-key.pem", server[1]),
        client_cert=_write_cert(folder / "client.pem", client[0]),
        client_key=_write_key(folder / "client-key.pem", client[1]),
        other_ca_pem=_write_cert(folder / "other-ca.pem", other_cert),
        token_cert=_write_cert(folder / "token.pem", token_cert),
        token_key=_write_key(folder / "token-key.pem", token_key),
    )


def client_context(ca: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """An SSL client context trusting only ``ca`` (and presenting ``cert``/``key`` if given)."""
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key) if key is not None else None)
    return context


def _server_context(pki: Pki) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    return context


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url (JWT segments)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def libtrust_key_id(cert_pem: Path) -> str:
    """The libtrust key ID of a certificate's public key (what Distribution calls ``kid``).

    SHA-256 of the DER SubjectPublicKeyInfo, first 30 bytes, base32 without padding, in 12
    groups of 4 characters joined by ``:``.
    """
    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii").rstrip("=")
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


# --------------------------------------------------------------------------------------------
# Threaded HTTP(S) servers


class _Server(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1; TLS when ``tls`` is set (handshake per thread)."""

    daemon_threads = True

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.tls = tls
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.server_address[1]}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Run the handler, after a TLS handshake in this (the request's own) thread."""
        request.settimeout(CONNECTION_TIMEOUT)
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that does not trust the CA: its own error says so
        with wrapped:
            super().finish_request(wrapped, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about broken connections (clients may drop keep-alive connections)."""

    def start(self) -> None:
        """Serve in a daemon thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop serving (bounded) and close the listening socket."""
        if self.thread.is_alive():
            self.shutdown()
            self.thread.join(timeout=THREAD_STOP_TIMEOUT)
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    """Base handler: HTTP/1.1, bounded reads, no logging."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Do not log every request to stderr."""

    def read_body(self) -> bytes:
        """The request body (``Content-Length`` or chunked)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(
        self,
        status: int,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "application/json",
    ) -> None:
        """Send a complete response with ``Content-Length``."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


# --------------------------------------------------------------------------------------------
# Token issuer


class TokenRequest(NamedTuple):
    """One request the token issuer answered.

    Attributes:
        method: ``GET`` (Distribution token spec) or ``POST`` (OAuth2 password grant).
        path: Request path, e.g. ``/token``.
        query: Query string (GET) or form body (POST), parsed; ``password`` is removed.
        user: Authenticated user, ``None`` when anonymous or refused.
        scopes: Requested scopes, e.g. ``("repository:charts/demo:pull,push",)``.
        status: HTTP status answered (200, or 401 for wrong credentials).
    """

    method: str
    path: str
    query: dict[str, list[str]]
    user: str | None
    scopes: tuple[str, ...]
    status: int


class TokenIssuer:
    """A Distribution token server (``auth: token`` realm) signing RS256 JWTs.

    Attributes:
        username: The one user it knows.
        password: Its password.
        lifetime: Token lifetime in seconds (``exp - iat`` and ``expires_in``); Distribution
            2.8.2 adds 60 s of leeway, so a lifetime of -120 gives tokens it refuses at once.
        deny_push: When true, only ``pull`` is ever granted ("missing scope" tests).
        key_header: ``"x5c"`` (signing certificate in the JWT header) or ``"kid"`` (libtrust key
            ID, looked up among the ``rootcertbundle`` keys); both work with Distribution 2.8.2.
        requests: Every request answered, in order (see :class:`TokenRequest`).
    """

    def __init__(self, pki: Pki, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.lifetime = 300
        self.deny_push = False
        self.key_header: Literal["x5c", "kid"] = "x5c"
        self.requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._key = serialization.load_pem_private_key(pki.token_key.read_bytes(), None)
        cert = x509.load_pem_x509_certificate(pki.token_cert.read_bytes())
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self._kid = libtrust_key_id(pki.token_cert)
        self._server = _Server(_IssuerHandler, _server_context(pki))
        self._server.issuer = self  # type: ignore[attr-defined]

    @property
    def realm(self) -> str:
        """The token endpoint URL (HTTPS, certificate from the test CA)."""
        return f"https://{self._server.host}/token"

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._server.start()

    def stop(self) -> None:
        """Stop serving (bounded)."""
        self._server.stop()

    def reset(self) -> None:
        """Back to the defaults: lifetime 300 s, pull and push granted, ``x5c``, no requests."""
        self.lifetime = 300
        self.deny_push = False
        self.key_header = "x5c"
        self.clear()

    def clear(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()

    def record(self, request: TokenRequest) -> None:
        """Append ``request`` to :attr:`requests` (thread-safe)."""
        with self._lock:
            self.requests.append(request)

    @contextlib.contextmanager
    def configured(
        self,
        *,
        lifetime: int | None = None,
        deny_push: bool | None = None,
        key_header: Literal["x5c", "kid"] | None = None,
    ) -> Iterator[TokenIssuer]:
        """Change settings for a ``with`` block; :meth:`reset` afterwards (requests cleared).

        Yields:
            The issuer, with its requests cleared on entry.
        """
        self.reset()
        if lifetime is not None:
            self.lifetime = lifetime
        if deny_push is not None:
            self.deny_push = deny_push
        if key_header is not None:
            self.key_header = key_header
        try:
            yield self
        finally:
            self.reset()

    def check(self, username: str | None, password: str | None) -> bool | None:
        """``True`` for the right credentials, ``False`` for wrong ones, ``None`` if absent."""
        if username is None and password is None:
            return None
        return hmac.compare_digest(username or "", self.username) and hmac.compare_digest(
            password or "", self.password
        )

    def grant(self, scopes: Iterable[str], user: str | None) -> list[dict[str, Any]]:
        """The ``access`` claim: requested repository actions among pull and push (user only)."""
        if user is None:
            return []
        allowed = {"pull"} if self.deny_push else {"pull", "push"}
        access: list[dict[str, Any]] = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3 or parts[0].split("(")[0] != "repository":
                continue
            wanted = set(parts[-1].split(","))
            actions = allowed if "*" in wanted else wanted & allowed
            access.append(
                {"type": "repository", "name": ":".join(parts[1:-1]), "actions": sorted(actions)}
            )
        return access

    def issue(self, service: str, scopes: Sequence[str], user: str | None) -> dict[str, Any]:
        """Sign a token and return the JSON answer of the token endpoint."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": service,
            "exp": now + self.lifetime,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": self.grant(scopes, user),
        }
        header: dict[str, Any] = {"typ": "JWT", "alg": "RS256"}
        if self.key_header == "x5c":
            header["x5c"] = [self._x5c]
        else:
            header["kid"] = self._kid
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        assert isinstance(self._key, rsa.RSAPrivateKey)
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        token = f"{signing_input}.{_b64url(signature)}"
        issued = datetime.datetime.fromtimestamp(now, datetime.UTC)
        return {
            "token": token,
            "access_token": token,
            "expires_in": self.lifetime,
            "issued_at": issued.isoformat().replace("+00:00", "Z"),
        }


def _scopes(values: Iterable[str]) -> tuple[str, ...]:
    """Split repeated and space-separated ``scope`` parameters."""
    return tuple(scope for value in values for scope in value.split() if scope)


class _IssuerHandler(_Handler):
    """GET ``/token?service=&scope=`` (Basic auth) and POST (OAuth2 ``grant_type=password``)."""

    def _issuer(self) -> TokenIssuer:
        issuer: TokenIssuer = self.server.issuer  # type: ignore[attr-defined]
        return issuer

    def _basic(self) -> tuple[str | None, str | None]:
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None, None
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        return user, password

    def _answer(self, query: dict[str, list[str]], user: str | None, password: str | None) -> None:
        issuer = self._issuer()
        path = urllib.parse.urlsplit(self.path).path
        scopes = _scopes(query.get("scope", []))
        recorded = {key: value for key, value in query.items() if key != "password"}
        verdict = issuer.check(user, password)
        if verdict is False:
            issuer.record(TokenRequest(self.command, path, recorded, None, scopes, 401))
            body = {"errors": [{"code": "UNAUTHORIZED", "message": "wrong username or password"}]}
            self.reply(
                401,
                json.dumps(body).encode(),
                [("WWW-Authenticate", 'Basic realm="meshcharts-test-issuer"')],
            )
            return
        granted_user = user if verdict else None
        service = (query.get("service") or [SERVICE])[0]
        answer = issuer.issue(service, scopes, granted_user)
        issuer.record(TokenRequest(self.command, path, recorded, granted_user, scopes, 200))
        self.reply(200, json.dumps(answer).encode())

    def do_GET(self) -> None:
        """Distribution token spec: credentials in a Basic ``Authorization`` header."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        self._answer(query, *self._basic())

    def do_POST(self) -> None:
        """OAuth2 password grant (form body); refresh tokens are not issued."""
        form = urllib.parse.parse_qs(self.read_body().decode("utf-8", "replace"))
        if form.get("grant_type") != ["password"]:
            self.reply(400, b'{"error":"unsupported_grant_type"}')
            return
        self._answer(form, form.get("username", [""])[0], form.get("password", [""])[0])


# --------------------------------------------------------------------------------------------
# Registries


@dataclasses.dataclass
class SecureRegistry:
    """A running ``docker-registry`` over TLS with authentication.

    Attributes:
        host: ``127.0.0.1:PORT`` (use ``oci://HOST/...`` with Helm).
        ca: CA bundle that verifies its certificate (``--ca-file``).
        username: The user allowed to pull and push.
        password: Its password (random per session).
        mode: ``"basic"`` (htpasswd) or ``"token"`` (bearer tokens from :attr:`issuer`).
        process: The ``docker-registry serve`` process.
        storage: Filesystem storage root of the registry.
        root: Folder with its config, htpasswd and log.
        issuer: The token issuer (token mode only).
        client_ca: Whether the registry requires a client certificate signed by the CA.
    """

    host: str
    ca: Path
    username: str
    password: str
    mode: Mode
    process: subprocess.Popen[bytes]
    storage: Path
    root: Path
    issuer: TokenIssuer | None = None
    client_ca: bool = False

    @property
    def url(self) -> str:
        """``https://HOST``."""
        return f"https://{self.host}"

    @property
    def helm_host(self) -> str:
        """``LOCALHOST:PORT``: the same server, spelled so that Helm 3 keeps to HTTPS.

        Helm 3.17's push and pull (containerd's resolver) use plain HTTP for any loopback IP
        and for ``localhost``, whatever ``--ca-file`` says; the upper-case name is not matched
        by that check, resolves through ``/etc/hosts`` and verifies against the DNS SAN.
        """
        return f"LOCALHOST:{self.host.rpartition(':')[2]}"

    def oci(self, path: str = "") -> str:
        """``oci://LOCALHOST:PORT/PATH`` for Helm (see :attr:`helm_host`)."""
        return f"oci://{self.helm_host}/{path}".rstrip("/")

    @property
    def log(self) -> str:
        """What the registry wrote so far (stdout and stderr)."""
        return (self.root / "registry.log").read_text(errors="replace")

    def helm_tls_args(self) -> list[str]:
        """``["--ca-file", CA]``: the TLS flags of ``helm registry login/push/pull``."""
        return ["--ca-file", str(self.ca)]

    def context(self, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
        """A client SSL context trusting :attr:`ca` (with a client certificate if given)."""
        return client_context(self.ca, cert, key)

    def basic_auth(self, username: str | None = None, password: str | None = None) -> str:
        """An ``Authorization: Basic ...`` value (defaults: the registry's user)."""
        pair = f"{username or self.username}:{password or self.password}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        context: ssl.SSLContext | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTPS request to the registry; HTTP errors are returned, not raised.

        Returns:
            ``(status, headers, body)``; header names are lower case.
        """
        return https_request(
            self.host, path, method=method, headers=headers, context=context or self.context()
        )


def https_request(
    host: str,
    path: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    context: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request to ``host`` (HTTPS when ``context`` is given, else plain HTTP).

    Returns:
        ``(status, headers, body)``; header names are lower case (repeated ones joined by
        ``", "``). HTTP error statuses are returned, not raised.
    """
    name, _, port = host.rpartition(":")
    connection: http.client.HTTPConnection
    if context is None:
        connection = http.client.HTTPConnection(name, int(port), timeout=CONNECTION_TIMEOUT)
    else:
        connection = http.client.HTTPSConnection(
            name, int(port), timeout=CONNECTION_TIMEOUT, context=context
        )
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        data = response.read()
        found: dict[str, str] = {}
        for key, value in response.getheaders():
            key = key.lower()
            found[key] = f"{found[key]}, {value}" if key in found else value
        return response.status, found, data
    finally:
        connection.close()


def _registry_binary() -> str:
    binary = shutil.which(REGISTRY_BINARY) or shutil.which("docker-registry")
    if binary is None:
        pytest.fail(
            "docker-registry is not installed: run scripts/test.sh (it installs Debian's "
            "docker-registry package) or apt-get install docker-registry"
        )
    return binary


def htpasswd_line(username: str, password: str) -> str:
    """An htpasswd entry with a bcrypt hash in Apache's ``$2y$`` spelling (Distribution's)."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    return f"{username}:$2y${hashed[4:]}"


def _config(
    root: Path,
    port: int,
    pki: Pki,
    mode: Mode,
    issuer: TokenIssuer | None,
    client_ca: bool,
) -> dict[str, Any]:
    tls: dict[str, Any] = {"certificate": str(pki.server_cert), "key": str(pki.server_key)}
    if client_ca:
        tls["clientcas"] = [str(pki.ca_pem)]
    auth: dict[str, Any]
    if mode == "basic":
        auth = {"htpasswd": {"realm": "meshcharts-test", "path": str(root / "htpasswd")}}
    else:
        assert issuer is not None
        auth = {
            "token": {
                "realm": issuer.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(pki.token_cert),
            }
        }
    return {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "data")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16), "tls": tls},
        "auth": auth,
    }


def _wait_ready(registry: SecureRegistry, pki: Pki) -> None:
    """Until ``GET /v2/`` answers 401 over TLS (bounded), else fail with the registry's log."""
    context = registry.context(
        *((pki.client_cert, pki.client_key) if registry.client_ca else (None, None))
    )
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while True:
        try:
            status, _, _ = https_request(registry.host, "/v2/", context=context)
            if status == 401:
                return
            last = f"status {status}"
        except (OSError, http.client.HTTPException) as error:
            last = repr(error)
        if registry.process.poll() is not None or time.monotonic() > deadline:
            stop(registry.process)
            pytest.fail(
                f"docker-registry ({registry.mode}) did not start on {registry.host} "
                f"({last}):\n{registry.log[-3000:]}"
            )
        time.sleep(0.1)


@contextlib.contextmanager
def start_secure_registry(
    root: Path,
    pki: Pki,
    mode: Mode,
    *,
    username: str = USERNAME,
    password: str | None = None,
    client_ca: bool = False,
) -> Iterator[SecureRegistry]:
    """Run ``docker-registry serve`` over TLS with authentication until the block ends.

    Args:
        root: Empty folder for config, htpasswd, log and storage.
        pki: Certificates (server certificate and, for token mode, the signing certificate).
        mode: ``"basic"`` (htpasswd, bcrypt) or ``"token"`` (starts a :class:`TokenIssuer`).
        username: The one user.
        password: Its password; random when ``None``.
        client_ca: Require a client certificate signed by ``pki.ca_pem`` (mutual TLS).

    Yields:
        The ready registry (``GET /v2/`` answered 401).
    """
    binary = _registry_binary()
    password = password or secrets.token_urlsafe(18)
    root.mkdir(parents=True, exist_ok=True)
    issuer = TokenIssuer(pki, username, password) if mode == "token" else None
    if mode == "basic":
        (root / "htpasswd").write_text(htpasswd_line(username, password) + "\n")
    port = free_port()
    config = root / "config.yml"
    config.write_text(json.dumps(_config(root, port, pki, mode, issuer, client_ca), indent=2))
    with contextlib.ExitStack() as stack:
        if issuer is not None:
            issuer.start()
            stack.callback(issuer.stop)
        log = stack.enter_context((root / "registry.log").open("wb"))
        process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT, cwd=root
        )
        stack.callback(stop, process)
        registry = SecureRegistry(
            host=f"127.0.0.1:{port}",
            ca=pki.ca_pem,
            username=username,
            password=password,
            mode=mode,
            process=process,
            storage=root / "data",
            root=root,
            issuer=issuer,
            client_ca=client_ca,
        )
        _wait_ready(registry, pki)
        yield registry


@pytest.fixture(scope="session", name="registry_pki")
def registry_pki_fixture(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """The session's test PKI (see :class:`Pki`)."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session", name="basic_registry")
def basic_registry_fixture(
    tmp_path_factory: pytest.TempPathFactory, registry_pki: Pki
) -> Iterator[SecureRegistry]:
    """A TLS registry with htpasswd auth (user ``meshcharts``), stopped after the session."""
    with start_secure_registry(
        tmp_path_factory.mktemp("basic-registry"), registry_pki, "basic"
    ) as registry:
        yield registry


@pytest.fixture(scope="session", name="token_registry")
def token_registry_fixture(
    tmp_path_factory: pytest.TempPathFactory, registry_pki: Pki
) -> Iterator[SecureRegistry]:
    """A TLS registry with token auth and its HTTPS token issuer, stopped after the session."""
    with start_secure_registry(
        tmp_path_factory.mktemp("token-registry"), registry_pki, "token"
    ) as registry:
        yield registry


# --------------------------------------------------------------------------------------------
# Flaky proxy

ScriptStep = int | tuple[int, Mapping[str, str]]
"""A scripted answer: a status, or a status with extra response headers."""

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)


class ProxyRequest(NamedTuple):
    """One request the proxy saw.

    Attributes:
        method: HTTP method.
        path: Path with query.
        status: Status answered to the client.
        scripted: True when the answer came from the script (not forwarded).
    """

    method: str
    path: str
    status: int
    scripted: bool


class FlakyProxy:
    """An HTTP(S) reverse proxy in front of one HTTPS registry that fails on cue.

    The first requests are answered from :attr:`script` (an OCI error body, e.g. 503 or 429
    with ``Retry-After``); once it is empty every request is forwarded to the registry over TLS
    (verified with the registry's CA) and the answer passed back. With ``tls=True`` the proxy
    itself serves HTTPS with the server certificate of the same PKI (clients keep their
    ``--ca-file``); with ``tls=False`` it serves plain HTTP (clients use ``--plain-http``) and
    sends ``X-Forwarded-Proto: http`` so the registry's upload ``Location`` URLs say ``http``.
    The ``Host`` header is passed through, so those URLs point back at the proxy.

    Attributes:
        upstream: ``HOST:PORT`` of the registry.
        tls: Whether clients talk HTTPS to the proxy.
        script: Answers still to give, consumed from the left; append to script more.
        requests: Every request seen, in order.
        reply_headers: ``(method, path part, headers)``: headers added to the registry's
            answers to matching requests (e.g. ``OCI-Chunk-Min-Length`` on upload starts).
    """

    def __init__(
        self,
        upstream: str,
        upstream_context: ssl.SSLContext,
        script: Iterable[ScriptStep],
        server_context: ssl.SSLContext | None,
    ) -> None:
        self.upstream = upstream
        self.tls = server_context is not None
        self.script: deque[ScriptStep] = deque(script)
        self.requests: list[ProxyRequest] = []
        self.reply_headers: list[tuple[str, str, dict[str, str]]] = []
        self._upstream_context = upstream_context
        self._lock = threading.Lock()
        self._server = _Server(_ProxyHandler, server_context)
        self._server.proxy = self  # type: ignore[attr-defined]

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` of the proxy."""
        return self._server.host

    @property
    def helm_host(self) -> str:
        """``LOCALHOST:PORT`` of the proxy (see :attr:`SecureRegistry.helm_host`)."""
        return f"LOCALHOST:{self.host.rpartition(':')[2]}"

    @property
    def url(self) -> str:
        """``https://HOST`` or ``http://HOST``."""
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def next_step(self) -> ScriptStep | None:
        """The next scripted answer, or ``None`` when the script is used up (thread-safe)."""
        with self._lock:
            return self.script.popleft() if self.script else None

    def record(self, request: ProxyRequest) -> None:
        """Append ``request`` to :attr:`requests` (thread-safe)."""
        with self._lock:
            self.requests.append(request)

    def forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request to the registry; its status, headers and body."""
        name, _, port = self.upstream.rpartition(":")
        connection = http.client.HTTPSConnection(
            name, int(port), timeout=CONNECTION_TIMEOUT, context=self._upstream_context
        )
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for key, value in headers:
                connection.putheader(key, value)
            if body or method in {"PUT", "POST", "PATCH"}:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            connection.close()

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._server.start()

    def stop(self) -> None:
        """Stop serving (bounded)."""
        self._server.stop()


class _ProxyHandler(_Handler):
    """Scripted answers first, then a pass-through to the upstream registry."""

    def _proxy(self) -> FlakyProxy:
        proxy: FlakyProxy = self.server.proxy  # type: ignore[attr-defined]
        return proxy

    def _handle(self) -> None:
        proxy = self._proxy()
        body = self.read_body()
        step = proxy.next_step()
        if step is not None:
            status, extra = (step, {}) if isinstance(step, int) else step
            message = {"errors": [{"code": "UNAVAILABLE", "message": f"scripted {status}"}]}
            proxy.record(ProxyRequest(self.command, self.path, status, True))
            self.reply(status, json.dumps(message).encode(), extra.items())
            return
        headers = [
            (key, value) for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP
        ]
        if not proxy.tls:
            headers.append(("X-Forwarded-Proto", "http"))
        try:
            status, answer, data = proxy.forward(self.command, self.path, headers, body)
        except (OSError, http.client.HTTPException) as error:
            proxy.record(ProxyRequest(self.command, self.path, 502, False))
            self.reply(502, json.dumps({"errors": [{"message": repr(error)}]}).encode())
            return
        proxy.record(ProxyRequest(self.command, self.path, status, False))
        for method, part, extra_headers in proxy.reply_headers:
            if method == self.command and part in self.path:
                answer = [*answer, *extra_headers.items()]
        self.send_response(status)
        length = str(len(data))
        for key, value in answer:
            if key.lower() == "content-length" and self.command == "HEAD":
                length = value
            elif key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle


FlakyProxyFactory = Callable[..., FlakyProxy]
"""``flaky_proxy(target, script=(), *, tls=True) -> FlakyProxy``."""


@pytest.fixture(name="flaky_proxy")
def flaky_proxy_fixture(registry_pki: Pki) -> Iterator[FlakyProxyFactory]:
    """A factory of :class:`FlakyProxy` in front of a registry; all stopped after the test.

    Call ``flaky_proxy(registry, [503, (429, {"Retry-After": "1"})], tls=True)`` where
    ``registry`` is a :class:`SecureRegistry` or an HTTPS ``HOST:PORT`` verified by the test CA.
    """
    proxies: list[FlakyProxy] = []

    def factory(
        target: SecureRegistry | str, script: Iterable[ScriptStep] = (), *, tls: bool = True
    ) -> FlakyProxy:
        host = target.host if isinstance(target, SecureRegistry) else target
        upstream = client_context(registry_pki.ca_pem)
        proxy = FlakyProxy(host, upstream, script, _server_context(registry_pki) if tls else None)
        proxy.start()
        proxies.append(proxy)
        return proxy

    try:
        yield factory
    finally:
        for proxy in proxies:
            proxy.stop()


# --------------------------------------------------------------------------------------------
# Credential helper

_HELPER = '''#!{python}
"""docker-credential-{name}: the Docker credential helper protocol over a JSON file (tests)."""
import json
import pathlib
import sys

STORE = pathlib.Path({store!r})
CALLS = pathlib.Path({calls!r})


def key(server):
    server = server.strip()
    for prefix in ("https://", "http://"):
        if server.startswith(prefix):
            server = server[len(prefix):]
    return server.rstrip("/").lower()


def main():
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    data = sys.stdin.read()
    with CALLS.open("a") as calls:
        calls.write(action + " " + (data.strip() if action in ("get", "erase") else "") + "\\n")
    creds = json.loads(STORE.read_text()) if STORE.exists() else {{}}
    if action == "get":
        entry = creds.get(key(data))
        if entry is None:
            print("credentials not found in native keychain")
            return 1
        print(json.dumps({{"ServerURL": data.strip(), "Username": entry["Username"],
                          "Secret": entry["Secret"]}}))
    elif action == "store":
        entry = json.loads(data)
        creds[key(entry["ServerURL"])] = {{"Username": entry["Username"],
                                           "Secret": entry["Secret"]}}
        STORE.write_text(json.dumps(creds))
    elif action == "erase":
        if creds.pop(key(data), None) is None:
            print("credentials not found in native keychain")
            return 1
        STORE.write_text(json.dumps(creds))
    elif action == "list":
        print(json.dumps({{server: entry["Username"] for server, entry in creds.items()}}))
    else:
        print("unknown action: " + action)
        return 1
    return 0


sys.exit(main())
'''


def credential_helper(folder: Path, host: str, username: str, password: str) -> Path:
    """Write an executable ``docker-credential-meshtest`` knowing ``host``'s credentials.

    It implements ``get`` (server URL on stdin; prints ``{"ServerURL", "Username", "Secret"}``
    or, for an unknown host, ``credentials not found in native keychain`` with exit 1),
    ``store``, ``erase`` and ``list`` over ``meshtest-credentials.json`` beside it, and appends
    each call (``ACTION SERVER``) to ``meshtest-calls.log`` there.

    Args:
        folder: Directory for the script and its files; created when missing.
        host: Registry ``HOST:PORT`` (case, a scheme or a trailing slash do not matter).
        username: User name to answer.
        password: Secret to answer.

    Returns:
        ``folder``, to put first on ``PATH``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / f"{HELPER_NAME}-credentials.json"
    store.write_text(json.dumps({host.lower(): {"Username": username, "Secret": password}}))
    store.chmod(0o600)
    script = folder / f"docker-credential-{HELPER_NAME}"
    script.write_text(
        _HELPER.format(
            python=sys.executable,
            name=HELPER_NAME,
            store=str(store),
            calls=str(folder / f"{HELPER_NAME}-calls.log"),
        )
    )
    script.chmod(0o755)
    return folder


def helper_config(path: Path, host: str) -> Path:
    """Write a Docker/Helm registry config that sends ``host`` to the ``meshtest`` helper.

    Returns:
        ``path`` (pass as ``--registry-config``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": {}, "credHelpers": {host: HELPER_NAME}}))
    return path
