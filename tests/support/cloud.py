"""Cloud identity servers on loopback for the credential sources' tests.

* `MotoECR`: moto's server mode (the real ECR API shape, driven by the real botocore). Its ECR
  hands out one fixed token per account (`<account>-auth-token`); real ECR hands out a new one
  per call. `rotate()` makes the answers carry a generation, so a registry can stop accepting
  yesterday's token.
* `GoogleTokenEndpoint`: the `token_uri` of a service-account key. It verifies what google-auth
  signs (the RS256 JWT assertion: signature, `iss`, `aud`, `scope`, `exp`) and hands out access
  tokens; `on_issue` lets a registry accept the newest one only.
* `AzureManagedIdentity`: the App Service managed-identity endpoint (`IDENTITY_ENDPOINT`, a
  loopback URL in Azure too) that azure-identity's DefaultAzureCredential asks for an AAD token.

Nothing here prints or records a secret: logs keep methods, paths and outcomes.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import free_port
from .httpd import LoopbackHTTPServer

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
AWS_ACCOUNT = "123456789012"  # moto's default account
AWS_REGION = "eu-west-1"


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ----------------------------------------------------------------------------------- AWS (moto)


class MotoECR:
    """moto's ThreadedMotoServer on 127.0.0.1; `env` points botocore at it."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.generation = 0
        self._patched: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach this server through botocore's own configuration."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": AWS_REGION,
            # No profile files of the machine, no instance metadata probing.
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def password(self, account: str = AWS_ACCOUNT) -> str:
        """The password moto's GetAuthorizationToken answers now for `account`."""
        base = f"{account}-auth-token"
        return base if self.generation == 0 else f"{base}-{self.generation}"

    def rotate(self) -> str:
        """A new token generation (as real ECR gives a new token per call); returns the new one."""
        from moto.ecr import responses

        if self._patched is None:
            original = responses.ECRResponse.get_authorization_token
            server = self

            def rotating(self: Any) -> Any:
                result = original(self)
                if server.generation:
                    for entry in result.result["authorizationData"]:
                        user, _, password = (
                            base64.b64decode(entry["authorizationToken"]).decode().partition(":")
                        )
                        entry["authorizationToken"] = base64.b64encode(
                            f"{user}:{password}-{server.generation}".encode()
                        ).decode()
                return result

            responses.ECRResponse.get_authorization_token = rotating  # type: ignore[method-assign]
            self._patched = original
        self.generation += 1
        return self.password()

    def start(self) -> MotoECR:
        self._server.start()
        return self

    def stop(self) -> None:
        if self._patched is not None:
            from moto.ecr import responses

            responses.ECRResponse.get_authorization_token = self._patched  # type: ignore[method-assign]
            self._patched = None
        self._server.stop()

    def __enter__(self) -> MotoECR:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ----------------------------------------------------------------------------------- Google


@dataclass(frozen=True)
class TokenGrant:
    """One request the Google token endpoint answered (no assertion, no token)."""

    status: int
    issuer: str | None
    error: str | None = None


@dataclass
class GoogleTokenEndpoint:
    """A service account's `token_uri`: verifies the JWT-bearer assertion, hands out tokens."""

    expires_in: int = 3600
    on_issue: Callable[[str], None] | None = None
    client_email: str = "dockerfeed-ci@dockerfeed-test.iam.gserviceaccount.com"
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    key_id: str = field(default_factory=lambda: secrets.token_hex(20))

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.grants: list[TokenGrant] = []
        self.issued = 0
        self._httpd = LoopbackHTTPServer(_google_handler(self), "google-token-endpoint")

    @property
    def token_uri(self) -> str:
        return f"http://127.0.0.1:{self._httpd.port}/token"

    def service_account_key(self) -> dict[str, Any]:
        """A service-account key file's JSON whose token_uri is this endpoint."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "type": "service_account",
            "project_id": "dockerfeed-test",
            "private_key_id": self.key_id,
            "private_key": pem,
            "client_email": self.client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
        }

    def verify(self, assertion: str) -> str | None:
        """Why the assertion is refused, or None when it is good."""
        try:
            head, body, signature = assertion.split(".")
            header = json.loads(_b64url_decode(head))
            claims = json.loads(_b64url_decode(body))
        except ValueError:
            return "malformed assertion"
        if header.get("alg") != "RS256" or header.get("kid") != self.key_id:
            return "unexpected alg or kid"
        try:
            self.key.public_key().verify(
                _b64url_decode(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return "Invalid JWT Signature."
        now = time.time()
        if claims.get("iss") != self.client_email:
            return "wrong iss"
        # Google's audience, whichever token_uri the key names (google-auth always sends it).
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            return "wrong aud"
        if "https://www.googleapis.com/auth/cloud-platform" not in str(claims.get("scope", "")).split():
            return "scope missing"
        if not (claims.get("iat", 0) <= now + 60 and claims.get("exp", 0) > now):
            return "expired or not yet valid"
        return None

    def _issue(self) -> str:
        token = "ya29." + secrets.token_urlsafe(32)
        with self._lock:
            self.issued += 1
        if self.on_issue is not None:
            self.on_issue(token)
        return token

    def stop(self) -> None:
        self._httpd.stop()


def _google_handler(endpoint: GoogleTokenEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            grant = (form.get("grant_type") or [""])[0]
            assertion = (form.get("assertion") or [""])[0]
            issuer = None
            with suppress(ValueError, IndexError, AttributeError):
                issuer = json.loads(_b64url_decode(assertion.split(".")[1])).get("iss")
            why = (
                "unsupported grant_type"
                if urlsplit(self.path).path != "/token"
                or grant != "urn:ietf:params:oauth:grant-type:jwt-bearer"
                else endpoint.verify(assertion)
            )
            with endpoint._lock:
                endpoint.grants.append(TokenGrant(400 if why else 200, issuer, why))
            if why:
                self._send(400, {"error": "invalid_grant", "error_description": why})
                return
            token = endpoint._issue()
            self._send(
                200, {"access_token": token, "expires_in": endpoint.expires_in, "token_type": "Bearer"}
            )

    return Handler


# ----------------------------------------------------------------------------------- Azure


@dataclass
class AzureManagedIdentity:
    """The App Service managed-identity endpoint azure-identity reads from IDENTITY_ENDPOINT."""

    tenant: str = "11111111-2222-3333-4444-555555555555"
    expires_in: int = 3600
    header_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)

    def __post_init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []  # (resource, outcome)
        self.tokens: list[str] = []
        self._httpd = LoopbackHTTPServer(_identity_handler(self), "azure-managed-identity")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._httpd.port}/msi/token"

    @property
    def env(self) -> dict[str, str]:
        return {"IDENTITY_ENDPOINT": self.endpoint, "IDENTITY_HEADER": self.header_secret}

    def aad_token(self) -> str:
        """An unsigned-looking AAD access token with the claims ACR's exchange reads."""
        now = int(time.time())
        claims = {
            "tid": self.tenant,
            "aud": "https://containerregistry.azure.net",
            "iat": now,
            "exp": now + self.expires_in,
            "jti": secrets.token_hex(8),
        }
        part = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        token = f"eyJhbGciOiJSUzI1NiJ9.{part}.{secrets.token_urlsafe(16)}"
        self.tokens.append(token)
        return token

    def stop(self) -> None:
        self._httpd.stop()


def _identity_handler(server: AzureManagedIdentity) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            resource = (query.get("resource") or [""])[0]
            if self.headers.get("X-IDENTITY-HEADER") != server.header_secret:
                server.requests.append((resource, "bad header"))
                status, body = 401, {"error": "unauthorized"}
            else:
                server.requests.append((resource, "ok"))
                status = 200
                body = {
                    "access_token": server.aad_token(),
                    "expires_on": str(int(time.time()) + server.expires_in),
                    "resource": resource,
                    "token_type": "Bearer",
                }
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for a block (for code outside pytest's monkeypatch)."""
    import os

    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
