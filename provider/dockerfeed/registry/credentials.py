"""Where credentials come from: explicit settings, or Docker's config.json and its helpers."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockerfeed.registry.errors import BadCredentials, InvalidReference
from dockerfeed.registry.reference import DOCKER_HUB_CONFIG_KEY, FeedAddress
from dockerfeed.registry.settings import FeedSettings

# A credential helper answering with this user name hands out an identity (refresh) token.
IDENTITY_TOKEN_USER = "<token>"


@dataclass(frozen=True)
class Credentials:
    """A user name with a password, or an identity token. Secrets stay out of repr()."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    source: str = "settings"

    @property
    def fingerprint(self) -> str:
        """Identifies the identity in cache keys without keeping the secret itself."""
        h = hashlib.sha256()
        for part in (self.username or "", self.password or "", self.identity_token or ""):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()[:32]

    def describe(self) -> str:
        if self.identity_token:
            return f"an identity token from {self.source}"
        return f"user {self.username!r} from {self.source}"


def resolve_credentials(settings: FeedSettings) -> Credentials | None:
    """Explicit username/password win; otherwise Docker's config when asked for; else anonymous."""
    if settings.username or settings.password:
        if not (settings.username and settings.password):
            missing = "password" if settings.username else "username"
            raise InvalidReference(
                f"only half of the credentials were given: {missing} is missing "
                "(give both username and password, or neither for anonymous access)"
            )
        return Credentials(username=settings.username, password=settings.password)
    if settings.use_docker_config:
        return docker_config_credentials(settings.address)
    return None


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def _config_keys(address: FeedAddress) -> list[str]:
    if address.is_docker_hub:
        return [DOCKER_HUB_CONFIG_KEY, "docker.io", "index.docker.io", "registry-1.docker.io"]
    return [address.netloc, f"https://{address.netloc}", f"http://{address.netloc}"]


def _host_of_key(key: str) -> str:
    text = key.split("://", 1)[-1]
    return text.split("/", 1)[0].lower()


def docker_config_credentials(address: FeedAddress) -> Credentials | None:
    """Look up credentials as Docker does: credHelpers[host], then credsStore, then auths."""
    path = docker_config_path()
    try:
        config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise InvalidReference(f"cannot read Docker config {path}: {e}") from None
    keys = _config_keys(address)
    hosts = {_host_of_key(k) for k in keys}
    helpers: dict[str, str] = config.get("credHelpers") or {}
    for key, helper in helpers.items():
        if _host_of_key(key) in hosts:
            return _from_helper(helper, keys[0])
    auths: dict[str, dict[str, str]] = config.get("auths") or {}
    if config.get("credsStore"):
        found = _from_helper(str(config["credsStore"]), keys[0])
        if found is not None:
            return found
    for key, entry in auths.items():
        if _host_of_key(key) in hosts:
            return _from_auth_entry(entry, str(path))
    return None


def _from_auth_entry(entry: dict[str, str], source: str) -> Credentials | None:
    if entry.get("identitytoken"):
        return Credentials(
            identity_token=entry["identitytoken"], username=entry.get("username"), source=source
        )
    if entry.get("auth"):
        try:
            user, _, secret = base64.b64decode(entry["auth"]).decode().partition(":")
        except ValueError:
            raise InvalidReference(f"the 'auth' entry in {source} is not base64 of user:password") from None
        return Credentials(username=user, password=secret, source=source)
    if entry.get("username") and entry.get("password"):
        return Credentials(username=entry["username"], password=entry["password"], source=source)
    return None


def _from_helper(helper: str, server_url: str) -> Credentials | None:
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run(
            [program, "get"], input=server_url, capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise BadCredentials(
            f"Docker config names the credential helper {helper!r}, but {program} is not on PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise BadCredentials(f"credential helper {program} did not answer within 30 s") from None
    if done.returncode != 0:
        # Helpers say "credentials not found in native keychain" when they have nothing.
        if "not found" in (done.stdout + done.stderr).lower():
            return None
        raise BadCredentials(f"credential helper {program} failed with exit code {done.returncode}")
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise BadCredentials(f"credential helper {program} printed something that is not JSON") from None
    user, secret = answer.get("Username") or "", answer.get("Secret") or ""
    if user == IDENTITY_TOKEN_USER:
        return Credentials(identity_token=secret, source=program)
    return Credentials(username=user, password=secret, source=program)
