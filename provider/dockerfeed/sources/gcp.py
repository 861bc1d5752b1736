"""The gcp source: Artifact Registry and GCR with a Google OAuth2 access token.

google-auth finds the identity and signs for it: Application Default Credentials
(GOOGLE_APPLICATION_CREDENTIALS, workload identity federation, the metadata server, gcloud's
user credentials) or the service-account key in `keyFile`. The access token (about one hour)
goes to the registry as the password of the user `oauth2accesstoken`.

With `jsonKey: true` the registry gets the `_json_key` Basic form instead: the user `_json_key`
and the whole service-account key JSON as the password (no token exchange, no expiry).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dockerfeed.sources.errors import SourceError
from dockerfeed.sources.resolved import RegistryHost, Resolved, require
from dockerfeed.sources.spec import CredentialSpec

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
ACCESS_TOKEN_USER = "oauth2accesstoken"
JSON_KEY_USER = "_json_key"
ADC_VARIABLE = "GOOGLE_APPLICATION_CREDENTIALS"


def _key_path(spec: CredentialSpec) -> str | None:
    return spec.key_file or os.environ.get(ADC_VARIABLE) or None


def _json_key(spec: CredentialSpec) -> Resolved:
    path = _key_path(spec)
    if path is None:
        raise SourceError(
            "credentials source gcp with jsonKey: no service-account key file: give credentials.keyFile "
            f"or set {ADC_VARIABLE} where the provider runs"
        )
    try:
        text = Path(path).read_text(encoding="utf-8")
        key = json.loads(text)
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else "not JSON"
        raise SourceError(f"credentials source gcp: cannot read the key file {path}: {reason}") from None
    if not isinstance(key, dict) or key.get("type") != "service_account":
        raise SourceError(
            f"credentials source gcp: {path} is not a service-account key "
            '(a JSON object with "type": "service_account"); _json_key needs one'
        )
    return Resolved(username=JSON_KEY_USER, secret=text.strip(), source=f"gcp _json_key ({path})")


def _credentials(spec: CredentialSpec) -> tuple[Any, str]:
    google_auth = require("google.auth", "gcp", "google-auth")
    if spec.key_file:
        service_account = require("google.oauth2.service_account", "gcp", "google-auth")
        creds = service_account.Credentials.from_service_account_file(spec.key_file, scopes=SCOPES)
        return creds, f"service-account key {spec.key_file}"
    creds, _project = google_auth.default(scopes=SCOPES)
    return creds, "Application Default Credentials"


def resolve(spec: CredentialSpec, registry: RegistryHost) -> Resolved:
    if spec.json_key:
        return _json_key(spec)
    require("google.auth", "gcp", "google-auth")
    from google.auth import exceptions

    transport = require("google.auth.transport.requests", "gcp", "google-auth[requests]")
    try:
        creds, what = _credentials(spec)
    except exceptions.DefaultCredentialsError as e:
        raise SourceError(
            f"credentials source gcp: no Application Default Credentials were found ({e}); set "
            f"{ADC_VARIABLE}, run on a Google runtime with a service account, or give credentials.keyFile"
        ) from None
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise SourceError(
            f"credentials source gcp: cannot use the key file {spec.key_file}: {reason}"
        ) from None
    try:
        creds.refresh(transport.Request())
    except exceptions.RefreshError as e:
        raise SourceError(f"credentials source gcp: {what} got no access token: {_reason(e)}") from None
    except exceptions.TransportError as e:
        raise SourceError(
            f"credentials source gcp: {what}: the token endpoint could not be reached: {e}"
        ) from None
    token = getattr(creds, "token", None)
    if not isinstance(token, str) or not token:
        raise SourceError(f"credentials source gcp: {what} answered no access token")
    expiry = getattr(creds, "expiry", None)
    # google-auth keeps `expiry` as a naive datetime in UTC.
    expires_at = expiry.replace(tzinfo=UTC).timestamp() if isinstance(expiry, datetime) else None
    return Resolved(
        username=ACCESS_TOKEN_USER,
        secret=token,
        source=f"gcp access token ({what})",
        expires_at=expires_at,
    )


def _reason(e: Exception) -> str:
    """The token endpoint's error, as google-auth reports it (its first argument is the text)."""
    return str(e.args[0]) if e.args else type(e).__name__
