"""The azure source: an Azure AD (Entra ID) token exchanged for an ACR refresh token.

azure-identity's DefaultAzureCredential finds the identity (environment service principal,
workload identity federation in CI, managed identity, the Azure CLI's login) and gets a token
for `https://containerregistry.azure.net/.default`. The registry's `/oauth2/exchange` trades it
for a refresh token, which the registry's token service (`/oauth2/token`) takes as an identity
token: the same flow as `az acr login`.

ACR admin users and repository-scoped tokens need no source of their own: they are a user name
and a password (username/password, or the env source).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from dockerfeed.sources.errors import SourceError
from dockerfeed.sources.resolved import RegistryHost, Resolved, require
from dockerfeed.sources.spec import CredentialSpec

ACR_SCOPE = "https://containerregistry.azure.net/.default"
# The user name ACR expects beside a refresh token (as `az acr login` writes it).
REFRESH_TOKEN_USER = "00000000-0000-0000-0000-000000000000"
MAX_ANSWER_BYTES = 1024 * 1024


def _claims(token: str) -> dict[str, Any]:
    """A JWT's payload, read (not verified: the registry verifies it) for `tid` and `exp`."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def aad_token(spec: CredentialSpec) -> tuple[str, float]:
    """An AAD access token for ACR and its expiry (epoch seconds)."""
    identity = require("azure.identity", "azure", "azure-identity")
    core = require("azure.core.exceptions", "azure", "azure-identity")
    try:
        credential = identity.DefaultAzureCredential()
        try:
            kwargs = {"tenant_id": spec.tenant_id} if spec.tenant_id else {}
            token = credential.get_token(ACR_SCOPE, **kwargs)
        finally:
            credential.close()
    except core.ClientAuthenticationError as e:
        # azure-identity lists what each credential of the chain found; it prints no secret.
        first = str(e.message if hasattr(e, "message") else e).strip().splitlines()[0]
        raise SourceError(
            "credentials source azure: DefaultAzureCredential found no identity for ACR "
            f"({first}); in CI use workload identity federation (AZURE_CLIENT_ID, AZURE_TENANT_ID, "
            "AZURE_FEDERATED_TOKEN_FILE) or a service principal (AZURE_CLIENT_SECRET)"
        ) from None
    return str(token.token), float(token.expires_on)


def exchange(registry: RegistryHost, aad: str, tenant: str | None, client: httpx.Client) -> str:
    """POST /oauth2/exchange: the AAD token for an ACR refresh token."""
    url = f"{registry.base_url}/oauth2/exchange"
    form = {"grant_type": "access_token", "service": registry.hostname, "access_token": aad}
    if tenant:
        form["tenant"] = tenant
    where = f"POST {url}"
    try:
        response = client.post(url, data=form)
    except httpx.HTTPError as e:
        raise SourceError(f"credentials source azure: {where} failed: {type(e).__name__}") from None
    if response.status_code in (401, 403):
        raise SourceError(
            f"credentials source azure: {where} refused the Azure AD token (HTTP {response.status_code}); "
            "give the identity a role on the registry (AcrPull) and check tenantId"
        )
    if response.status_code != 200:
        raise SourceError(
            f"credentials source azure: {where} answered HTTP {response.status_code}; "
            "is this an Azure Container Registry (*.azurecr.io)?"
        )
    if len(response.content) > MAX_ANSWER_BYTES:
        raise SourceError(f"credentials source azure: {where} answered more than {MAX_ANSWER_BYTES} bytes")
    try:
        body = response.json()
    except ValueError:
        body = None
    refresh = body.get("refresh_token") if isinstance(body, dict) else None
    if not isinstance(refresh, str) or not refresh:
        raise SourceError(f"credentials source azure: {where} answered 200 without a refresh_token")
    return refresh


def resolve(spec: CredentialSpec, registry: RegistryHost, client: httpx.Client | None = None) -> Resolved:
    aad, aad_expiry = aad_token(spec)
    tenant = spec.tenant_id or _claims(aad).get("tid")
    own = client is None
    http = client if client is not None else httpx.Client(timeout=30.0)
    try:
        refresh = exchange(registry, aad, tenant if isinstance(tenant, str) else None, http)
    finally:
        if own:
            http.close()
    exp = _claims(refresh).get("exp")
    # The refresh token outlives the AAD token (3 h against 1 h); the earlier expiry is kept.
    expires_at = min(aad_expiry, float(exp)) if isinstance(exp, int | float) else aad_expiry
    return Resolved(
        username=REFRESH_TOKEN_USER,
        secret=refresh,
        source=f"azure (DefaultAzureCredential, exchanged at {registry.netloc}/oauth2/exchange)",
        expires_at=expires_at,
        identity_token=True,
    )
