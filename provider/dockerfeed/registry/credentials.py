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

import httpx

from dockerfeed import sources
from dockerfeed.registry._http import NotAnObject, json_object
from dockerfeed.registry.errors import BadCredentials, InvalidConfiguration
from dockerfeed.registry.reference import DOCKER_HUB_CONFIG_KEY, FeedAddress
from dockerfeed.registry.settings import ConnectionSettings, check_credentials, check_username

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


def explicit_credentials(settings: ConnectionSettings) -> Credentials | None:
    """The username and password of the settings (checked), or None when they give none."""
    check_credentials(settings.username, settings.password)
    if settings.username and settings.password:
        return Credentials(username=settings.username, password=settings.password)
    return None


def resolve_credentials(settings: ConnectionSettings) -> Credentials | None:
    """Explicit username/password; otherwise Docker's config when asked for; else anonymous.

    Uncached: a Session (session.py) resolves once per run and is what the client calls.
    """
    if settings.credentials is not None:
        return sourced_credentials(settings, settings.credentials)
    explicit = explicit_credentials(settings)
    if explicit is None and settings.use_docker_config:
        return docker_config_credentials(settings.address)
    return explicit


def docker_config_key(address: FeedAddress) -> tuple[object, ...]:
    """What a Docker config lookup for `address` depends on: the file (by path, size and mtime, so
    a rewritten config is read again) and the registry's keys in it."""
    path = docker_config_path()
    try:
        st = path.stat()
        version: tuple[int, ...] = (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        version = ()
    return (str(path), version, tuple(_config_keys(address)))


def sourced_credentials(
    settings: ConnectionSettings,
    spec: sources.CredentialSpec,
    client: httpx.Client | None = None,
    cache: sources.SourceCache | None = None,
) -> Credentials:
    """Ask the `credentials` source (dockerfeed.sources caches answers by their real expiry, in
    `cache`: the Session's). `client` carries sources that talk to the registry itself (ACR's
    exchange) over the feed's TLS and proxy settings. Source docker is Docker's config, read here."""
    address = settings.address
    if spec.source == "docker":
        found = docker_config_credentials(address)
        if found is None:
            raise BadCredentials(
                f"credentials source docker: {docker_config_path()} has no credentials for "
                f"{address.netloc} (no credHelpers entry, credsStore answer or auths entry); "
                f"run `docker login {address.netloc}` where the provider runs"
            )
        return found
    host = sources.RegistryHost(address.base_url, address.netloc, address.is_docker_hub)
    try:
        answer = sources.resolve(spec, host, client=client, cache=cache)
    except sources.SourceConfigError as e:
        raise InvalidConfiguration(str(e), property="credentials") from None
    except sources.SourceError as e:
        raise BadCredentials(str(e)) from None
    if answer.identity_token:
        return Credentials(username=answer.username, identity_token=answer.secret, source=answer.source)
    return Credentials(username=answer.username, password=answer.secret, source=answer.source)


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


# The fields of an `auths` entry that hold text (Docker's own types.AuthConfig).
_AUTH_TEXT_FIELDS = (
    "auth",
    "username",
    "password",
    "identitytoken",
    "registrytoken",
    "email",
    "serveraddress",
)


def _read_docker_config(path: Path) -> dict[str, Any] | None:
    """The parsed config, shape-checked as Docker reads it; None when there is no file.

    Docker refuses a config whose fields have the wrong JSON types, and so do we: a wrong shape
    must not turn into anonymous access (or a crash) without a word.
    """
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise InvalidConfiguration(f"cannot read Docker config {path}: {reason}") from None

    def wrong(what: str) -> InvalidConfiguration:
        return InvalidConfiguration(
            f"Docker config {path}: {what}; give it the shape `docker login` writes "
            '({"auths": {"<host>": {"auth": "<base64 of user:password>"}}}), or leave out '
            "useDockerConfig (--docker-config)"
        )

    if not isinstance(config, dict):
        raise wrong(f"the file holds a JSON {_json_type(config)}, not an object")
    auths = config.get("auths")
    if auths is not None:
        if not isinstance(auths, dict):
            raise wrong(f"'auths' is a JSON {_json_type(auths)}, not an object of registries")
        for key, entry in auths.items():
            if not isinstance(entry, dict):
                raise wrong(
                    f"the 'auths' entry {key!r} is a JSON {_json_type(entry)}, not an object "
                    'such as {"auth": "<base64 of user:password>"}'
                )
            for name in _AUTH_TEXT_FIELDS:
                if entry.get(name) is not None and not isinstance(entry[name], str):
                    raise wrong(
                        f"'{name}' of the 'auths' entry {key!r} is a JSON {_json_type(entry[name])}, not text"
                    )
    helpers = config.get("credHelpers")
    if helpers is not None:
        if not isinstance(helpers, dict):
            raise wrong(f"'credHelpers' is a JSON {_json_type(helpers)}, not an object of registry: helper")
        for key, helper in helpers.items():
            if not isinstance(helper, str) or not helper:
                raise wrong(f"the 'credHelpers' entry {key!r} is not the name of a credential helper")
    store = config.get("credsStore")
    if store is not None and not isinstance(store, str):
        raise wrong(f"'credsStore' is a JSON {_json_type(store)}, not the name of a credential helper")
    return config


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def docker_config_credentials(address: FeedAddress) -> Credentials | None:
    """Look up credentials as Docker does: credHelpers[host], then credsStore, then auths."""
    path = docker_config_path()
    config = _read_docker_config(path)
    if config is None:
        return None
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
            return _from_auth_entry(entry, key, str(path))
    return None


def _from_auth_entry(entry: dict[str, str], key: str, source: str) -> Credentials | None:
    if entry.get("identitytoken"):
        return Credentials(
            identity_token=entry["identitytoken"], username=entry.get("username"), source=source
        )
    if entry.get("auth"):
        user, secret = _decode_auth(entry["auth"], key, source)
        return Credentials(username=user, password=secret, source=source)
    if entry.get("username") and entry.get("password"):
        check_username(entry["username"], f"the user name of the 'auths' entry {key!r} in {source}")
        return Credentials(username=entry["username"], password=entry["password"], source=source)
    return None


def _decode_auth(value: str, key: str, source: str) -> tuple[str, str]:
    """`auth` is base64 of `user:password` (Docker decodes it strictly; so do we)."""
    bad = InvalidConfiguration(
        f"the 'auth' of the 'auths' entry {key!r} in {source} is not base64 of user:password; "
        "run `docker login` again to rewrite it"
    )
    text = value.strip()
    try:
        # Padding is optional here (some tools leave it out); every other character must be base64.
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are both ValueErrors
        raise bad from None
    user, sep, secret = decoded.partition(":")
    if not sep or not user:
        raise bad
    return user, secret


def _from_helper(helper: str, server_url: str) -> Credentials | None:
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run(
            [program, "get"], input=server_url.encode(), capture_output=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise BadCredentials(
            f"Docker config names the credential helper {helper!r}, but {program} is not on PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise BadCredentials(f"credential helper {program} did not answer within 30 s") from None
    except OSError as e:
        raise BadCredentials(f"credential helper {program} could not be run: {e.strerror or e}") from None
    # Only the helper's words about failing are ever shown, never what it printed on success.
    said = (done.stdout + done.stderr).decode("utf-8", "replace")
    if done.returncode != 0:
        # Helpers say "credentials not found in native keychain" when they have nothing.
        if "not found" in said.lower():
            return None
        raise BadCredentials(f"credential helper {program} failed with exit code {done.returncode}")
    shape = (
        f"credential helper {program} printed something that is not the JSON object "
        '{"ServerURL": ..., "Username": ..., "Secret": ...} of the credential helper protocol'
    )
    try:
        answer = json_object(done.stdout)
    except NotAnObject:
        raise BadCredentials(shape) from None
    user, secret = answer.get("Username") or "", answer.get("Secret") or ""
    if not isinstance(user, str) or not isinstance(secret, str):
        raise BadCredentials(shape)
    if user == IDENTITY_TOKEN_USER:
        return Credentials(identity_token=secret, source=program)
    if not user and not secret:
        return None  # as Docker reads it: the helper has nothing for this registry
    if not user or not secret:
        missing = "Secret" if user else "Username"
        raise BadCredentials(f"credential helper {program} answered without a {missing}")
    check_username(user, f"the user name credential helper {program} answered")
    return Credentials(username=user, password=secret, source=program)
