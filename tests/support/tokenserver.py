"""A small Docker token server (the "realm" of Bearer auth) that signs real JWTs.

It implements what distribution's token access controller verifies
(registry/auth/token/token.go in distribution v3.1.2):

* the JWT header carries `x5c` (standard base64 DER, leaf first); the chain must verify against
  `auth.token.rootcertbundle`, so we sign with a leaf certificate issued by our own CA and put
  the CA certificate in the bundle. `kid`/`jwk` are only consulted when `x5c` is absent;
* claims `iss` must equal `auth.token.issuer`, `aud` (string or list) must contain
  `auth.token.service`, `exp`/`nbf` are checked with a 60 s leeway, and
  `access: [{type, name, actions}]` must cover every action the request needs
  (`*` in a granted action set covers everything);
* ES256 (default) and RS256 are both in distribution's default algorithm list.

Both protocol flavours are served: `GET realm?service=S&scope=...` with optional Basic
credentials, and the OAuth2 `POST` form (`grant_type=password|refresh_token`). Every request is
recorded without secrets so tests can count token round-trips.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import hmac
import ipaddress
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.httpd import LoopbackHTTPServer

Algorithm = Literal["ES256", "RS256"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# --------------------------------------------------------------------------- certificates


@dataclass
class KeyPair:
    """A private key and its certificate (CA or leaf)."""

    key: PrivateKey
    cert: x509.Certificate

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def _new_key(algorithm: Algorithm) -> PrivateKey:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pulumi-dockerfeed tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    # Backdate a little: the registry and the test process share a clock, but a freshly minted
    # certificate must never be "not yet valid" by a rounding second.
    now = dt.datetime.now(dt.UTC)
    return builder.not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))


def make_ca(common_name: str = "dockerfeed test CA", algorithm: Algorithm = "ES256") -> KeyPair:
    """A throw-away self-signed CA."""
    key = _new_key(algorithm)
    name = _name(common_name)
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return KeyPair(key, builder.sign(key, hashes.SHA256()))


def make_leaf(
    ca: KeyPair,
    common_name: str,
    *,
    hosts: Sequence[str] = (),
    algorithm: Algorithm = "ES256",
) -> KeyPair:
    """A certificate signed by `ca`: a TLS server cert when `hosts` is given, else a JWT signer."""
    key = _new_key(algorithm)
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if hosts:
        sans: list[x509.GeneralName] = []
        for host in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return KeyPair(key, builder.sign(ca.key, hashes.SHA256()))


# --------------------------------------------------------------------------- JWT


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(key: PrivateKey, algorithm: Algorithm, signing_input: bytes) -> bytes:
    if algorithm == "RS256":
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    # JWS wants the raw 64-byte r||s, not the DER structure cryptography returns.
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@dataclass(frozen=True)
class Grant:
    """A permission rule.

    subject: a user name, "*" for every authenticated user, or None for everyone including
        anonymous callers (a public repository).
    name: fnmatch glob on the resource name (`demo/*`, `catalog` for `registry:catalog:*`).
    actions: granted actions; "*" grants whatever was asked.
    """

    subject: str | None
    name: str
    actions: tuple[str, ...]
    type: str = "repository"

    def applies_to(self, username: str | None, rtype: str, name: str) -> bool:
        if self.type != rtype or not fnmatch.fnmatchcase(name, self.name):
            return False
        return self.subject is None or (username is not None and self.subject in ("*", username))


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: tuple[str, ...]
    resource_class: str = ""

    @classmethod
    def parse(cls, text: str) -> Scope | None:
        # `type[(class)]:name:actions`; the name itself may contain ':' (host:port prefixes),
        # so split on the first and the last colon only.
        head, sep, rest = text.partition(":")
        name, sep2, actions = rest.rpartition(":")
        if not sep or not sep2 or not name:
            return None
        rclass = ""
        if "(" in head and head.endswith(")"):
            head, _, rclass = head[:-1].partition("(")
        return cls(head, name, tuple(a for a in actions.split(",") if a), rclass)


@dataclass(frozen=True)
class TokenRequest:
    """What the token server saw. Deliberately has no field that could hold a secret."""

    method: str
    path: str
    service: str | None
    scopes: tuple[str, ...]
    grant_type: str | None
    username: str | None
    auth_present: bool
    status: int
    granted: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    client_id: str | None = None


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class TokenServer:
    """Docker token server on 127.0.0.1 (plain http) in a background thread.

    users: name → password. grants: permission rules (see Grant). Unknown user or wrong
    password → 401; a valid user without grants gets a token with no access, which the
    registry then refuses with insufficient_scope on every repository operation.
    """

    # repr=False: the dataclass repr must never show passwords (pytest may print it).
    users: Mapping[str, str] = field(default_factory=dict, repr=False)
    grants: Sequence[Grant] = ()
    service: str = "dockerfeed-test-registry"
    issuer: str = "dockerfeed-test-token-issuer"
    expires_in: int = 300
    algorithm: Algorithm = "ES256"
    # When False the OAuth2 POST answers 404, as some registries do; clients must fall back.
    oauth_post: bool = True
    # When False the JSON has only `access_token` (allowed by the spec), not `token`.
    legacy_token_field: bool = True

    def __post_init__(self) -> None:
        self.ca = make_ca("dockerfeed token CA", self.algorithm)
        self.signer = make_leaf(self.ca, "dockerfeed token signer", algorithm=self.algorithm)
        self._lock = threading.Lock()
        self._requests: list[TokenRequest] = []
        self._refresh_tokens: dict[str, str] = {}
        self._httpd: LoopbackHTTPServer | None = None
        self._tmpdir: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> TokenServer:
        if self._httpd is not None:
            return self
        self._httpd = LoopbackHTTPServer(_make_handler(self), "dockerfeed-token-server")
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.stop()

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("token server is not running")
        return self._httpd.port

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def root_cert_pem(self) -> bytes:
        """The bundle for `auth.token.rootcertbundle`."""
        return self.ca.cert_pem()

    # -- request log -----------------------------------------------------------------------

    @property
    def requests(self) -> list[TokenRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, entry: TokenRequest) -> None:
        with self._lock:
            self._requests.append(entry)

    # -- token logic -----------------------------------------------------------------------

    def authenticate(self, username: str | None, password: str | None) -> str | None:
        """Return the subject, None for anonymous; raise AuthError(401) on bad credentials."""
        if username is None:
            return None
        expected = self.users.get(username)
        # compare_digest even for unknown users, so timing does not reveal which names exist.
        ok = hmac.compare_digest(
            (password or "").encode(), (expected if expected is not None else "\0").encode()
        )
        if expected is None or not ok:
            raise AuthError(401, "invalid username or password")
        return username

    def access_for(self, subject: str | None, scopes: Iterable[str]) -> list[dict[str, Any]]:
        """Intersect requested scopes with the grants (what a real token server does)."""
        access: list[dict[str, Any]] = []
        for text in scopes:
            scope = Scope.parse(text)
            if scope is None:
                continue
            allowed: set[str] = set()
            for grant in self.grants:
                if grant.applies_to(subject, scope.type, scope.name):
                    allowed.update(scope.actions if "*" in grant.actions else grant.actions)
            actions = [a for a in scope.actions if a in allowed]
            if actions:
                entry: dict[str, Any] = {"type": scope.type, "name": scope.name, "actions": actions}
                if scope.resource_class:
                    entry["class"] = scope.resource_class
                access.append(entry)
        return access

    def issue_token(
        self,
        subject: str | None,
        access: list[dict[str, Any]],
        *,
        expires_in: int | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        not_before: int | None = None,
        signer: KeyPair | None = None,
    ) -> str:
        """Mint a JWT. The keyword overrides let tests craft tokens the registry must reject."""
        now = int(time.time())
        lifetime = self.expires_in if expires_in is None else expires_in
        signer = signer or self.signer
        header = {
            "typ": "JWT",
            "alg": self.algorithm,
            "x5c": [
                base64.b64encode(signer.cert_der()).decode("ascii"),
                base64.b64encode(self.ca.cert_der()).decode("ascii"),
            ],
        }
        claims = {
            "iss": issuer or self.issuer,
            "sub": subject or "",
            "aud": audience or self.service,
            "exp": now + lifetime,
            "nbf": now - 1 if not_before is None else not_before,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        ).encode("ascii")
        signature = _sign(signer.key, self.algorithm, signing_input)
        return signing_input.decode("ascii") + "." + _b64url(signature)

    def _response(
        self, subject: str | None, scopes: Sequence[str], *, offline: bool
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        access = self.access_for(subject, scopes)
        token = self.issue_token(subject, access)
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": self.expires_in,
            "issued_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if self.legacy_token_field:
            body["token"] = token
        if offline and subject is not None:
            refresh = secrets.token_urlsafe(24)
            with self._lock:
                self._refresh_tokens[refresh] = subject
            body["refresh_token"] = refresh
        return body, access

    def _subject_for_refresh(self, refresh_token: str | None) -> str:
        with self._lock:
            subject = self._refresh_tokens.get(refresh_token or "")
        if subject is None:
            raise AuthError(401, "invalid refresh token")
        return subject


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except ValueError:
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def _make_handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            # Silence stderr access logs; tests use TokenServer.requests instead.
            pass

        def _send(self, status: int, body: dict[str, Any], *, basic_challenge: bool = False) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if basic_challenge:
                self.send_header("WWW-Authenticate", 'Basic realm="dockerfeed-test-token"')
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            code = "UNAUTHORIZED" if status == 401 else "DENIED" if status == 403 else "INVALID"
            self._send(
                status,
                {"errors": [{"code": code, "message": message}], "error": message},
                basic_challenge=status == 401,
            )

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query, keep_blank_values=True)
            # A scope param may itself hold several space-separated scopes.
            scopes = tuple(s for raw in query.get("scope", []) for s in raw.split() if s)
            service = query.get("service", [None])[0]
            auth_header = self.headers.get("Authorization")
            creds = _basic_credentials(auth_header)
            username = creds[0] if creds else None
            status, granted = 200, list[dict[str, Any]]()
            try:
                if url.path != "/token":
                    raise AuthError(404, "not found")
                if service is not None and service != server.service:
                    raise AuthError(400, f"unknown service {service!r}")
                subject = server.authenticate(*creds) if creds else None
                offline = query.get("offline_token", ["false"])[0].lower() == "true"
                body, granted = server._response(subject, scopes, offline=offline)
                reply = partial(self._send, 200, body)
            except AuthError as err:
                status = err.status
                reply = partial(self._error, err.status, str(err))
            # Recorded before the answer goes out: a client that has its answer finds the
            # request in the log (recording after let tests race with the server).
            server._record(
                TokenRequest(
                    method="GET",
                    path=url.path,
                    service=service,
                    scopes=scopes,
                    grant_type=None,
                    username=username,
                    auth_present=auth_header is not None,
                    status=status,
                    granted=_granted_tuple(granted),
                    client_id=query.get("client_id", [None])[0],
                )
            )
            reply()

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)

            def one(key: str) -> str | None:
                values = form.get(key)
                return values[0] if values else None

            grant_type = one("grant_type")
            scopes = tuple(s for raw in form.get("scope", []) for s in raw.split() if s)
            service = one("service")
            username = one("username") if grant_type == "password" else None
            status, granted = 200, list[dict[str, Any]]()
            try:
                if url.path != "/token" or not server.oauth_post:
                    raise AuthError(404, "not found")
                if service is not None and service != server.service:
                    raise AuthError(400, f"unknown service {service!r}")
                if not one("client_id"):
                    raise AuthError(400, "client_id is required")
                if grant_type == "password":
                    subject = server.authenticate(username or "", one("password") or "")
                elif grant_type == "refresh_token":
                    subject = server._subject_for_refresh(one("refresh_token"))
                    username = subject
                else:
                    raise AuthError(400, f"unsupported grant_type {grant_type!r}")
                # The OAuth2 flow always hands back a refresh token when access_type=offline
                # (docker's default for `docker login`).
                offline = one("access_type") == "offline" or grant_type == "refresh_token"
                body, granted = server._response(subject, scopes, offline=offline)
                reply = partial(self._send, 200, body)
            except AuthError as err:
                status = err.status
                reply = partial(self._error, err.status, str(err))
            # Recorded before the answer goes out: a client that has its answer finds the
            # request in the log (recording after let tests race with the server).
            server._record(
                TokenRequest(
                    method="POST",
                    path=url.path,
                    service=service,
                    scopes=scopes,
                    grant_type=grant_type,
                    username=username,
                    auth_present=self.headers.get("Authorization") is not None
                    or one("password") is not None
                    or one("refresh_token") is not None,
                    status=status,
                    granted=_granted_tuple(granted),
                    client_id=one("client_id"),
                )
            )
            reply()

    return Handler


def _granted_tuple(access: list[dict[str, Any]]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    return tuple((a["type"], a["name"], tuple(a["actions"])) for a in access)
