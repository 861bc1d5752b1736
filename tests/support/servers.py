"""Real distribution registry processes on free loopback ports.

`RegistryServer("v2")` runs Debian's distribution 2.8 (`docker-registry`), the reference
implementation: tags/list ignores `n`/`last`. `RegistryServer("v3", maxtags=5)` runs
distribution v3.1.2, whose tags/list paginates. Both get a temp storage dir, a generated config
and optionally htpasswd or token auth (the latter backed by tests.support.tokenserver).

Config keys used (checked against distribution v3.1.2's configuration/configuration.go and
registry/auth/token/accesscontroller.go):

* `tags.maxtags` (v3 only, default 1000): caps `n` on /v2/<name>/tags/list. In 3.1.2 the cap is
  only applied when the client sends `n`; without `n` the whole list comes back in one page.
  An `n` above the cap is clamped (3.1.0 answered 400 instead).
* `catalog.maxentries` (default 1000): caps `n` on /v2/_catalog.
* `auth.htpasswd.{realm,path}`: bcrypt entries only.
* `auth.token.{realm,service,issuer,rootcertbundle}`; the JWT must carry `x5c` chaining to a
  certificate in the bundle.
* `storage.delete.enabled: true` so tests can delete manifests (v3 also untags by name).

The config is written as JSON, which is valid YAML, so no YAML library is needed.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import bcrypt
import httpx

from . import find_tool, free_port
from .tokenserver import Grant, KeyPair, TokenServer, make_ca, make_leaf

Impl = Literal["v2", "v3"]
AuthMode = Literal["htpasswd", "token"] | None

_TOOL_KEYS: dict[str, str] = {"v2": "DOCKERFEED_REGISTRY2", "v3": "DOCKERFEED_REGISTRY3"}


class RegistryStartError(RuntimeError):
    """The registry process did not come up; the message carries its log."""


def default_grants(users: Mapping[str, str]) -> list[Grant]:
    """Full rights for every configured user: the simple case of a private registry."""
    grants = [Grant(name, "*", ("pull", "push", "delete")) for name in users]
    grants += [Grant(name, "catalog", ("*",), type="registry") for name in users]
    return grants


class RegistryServer:
    """A distribution registry process. Use as a context manager or call start()/stop().

    impl: "v2" (distribution 2.8, Debian) or "v3" (distribution v3.1.2).
    auth: None, "htpasswd" (users → bcrypt file) or "token" (a TokenServer is started for
        `users`/`grants` unless `token_server` is given; default grants: every user may do
        everything). maxtags (v3 only) → tags.maxtags; maxentries → catalog.maxentries.
    pusher: which user seeds images (`push_credentials`); default the first user.
    tls: serve https with a certificate from a generated CA (`ca_cert_path`, `verify`).
    tmp_root: parent directory for storage/config/log (e.g. "/dev/shm" for big seeds).

    Attributes after start(): url ("http://127.0.0.1:PORT"), host ("127.0.0.1:PORT"),
    log_path, config_path, storage_dir, token_server (token auth), ca_cert_path (tls).
    Passwords are kept out of repr() so a failing assertion cannot print them.
    """

    def __init__(
        self,
        impl: Impl = "v3",
        *,
        auth: AuthMode = None,
        users: Mapping[str, str] | None = None,
        grants: Sequence[Grant] | None = None,
        token_server: TokenServer | None = None,
        maxtags: int | None = None,
        maxentries: int | None = None,
        tls: bool = False,
        binary: str | None = None,
        pusher: str | None = None,
        tmp_root: str | None = None,
        startup_timeout: float = 30.0,
        log_level: str = "info",
        access_log: bool = True,
    ) -> None:
        if impl not in _TOOL_KEYS:
            raise ValueError(f"impl must be 'v2' or 'v3', not {impl!r}")
        if auth not in (None, "htpasswd", "token"):
            raise ValueError(f"auth must be None, 'htpasswd' or 'token', not {auth!r}")
        if maxtags is not None and impl != "v3":
            # distribution 2.8 has no tag pagination at all; silently ignoring would make a
            # pagination test pass for the wrong reason.
            raise ValueError("maxtags needs impl='v3' (distribution 2.8 does not paginate tags)")
        if auth == "htpasswd" and not users:
            raise ValueError("htpasswd auth needs at least one user")
        self.impl: Impl = impl
        self.auth: AuthMode = auth
        self._users: dict[str, str] = dict(users or {})
        self._grants = list(grants) if grants is not None else None
        self.token_server = token_server
        self._owns_token_server = False
        self.maxtags = maxtags
        self.maxentries = maxentries
        self.tls = tls
        self.binary = binary or find_tool(_TOOL_KEYS[impl])
        if pusher is not None and pusher not in self._users:
            raise ValueError(f"pusher {pusher!r} is not among the users")
        self._pusher = pusher
        # Parent of the temp workdir; "/dev/shm" makes 100k-tag storage seeding ~10x faster.
        self.tmp_root = tmp_root
        self.startup_timeout = startup_timeout
        self.log_level = log_level
        self.access_log = access_log

        self.port: int | None = None
        self.workdir: Path | None = None
        self.ca: KeyPair | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    # -- public attributes -----------------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def host(self) -> str:
        if self.port is None:
            raise RuntimeError("registry is not running")
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def username(self) -> str | None:
        """The first configured user (fixtures configure one main user)."""
        return next(iter(self._users), None)

    @property
    def password(self) -> str | None:
        name = self.username
        return self._users[name] if name is not None else None

    @property
    def credentials(self) -> tuple[str, str] | None:
        name = self.username
        return (name, self._users[name]) if name is not None else None

    @property
    def push_credentials(self) -> tuple[str, str] | None:
        """Credentials allowed to push (seed) images: `pusher` if given, else the main user."""
        if self._pusher is None:
            return self.credentials
        return (self._pusher, self._users[self._pusher])

    def password_for(self, username: str) -> str:
        return self._users[username]

    @property
    def users(self) -> list[str]:
        """User names only; use password_for() for a password."""
        return list(self._users)

    def _path(self, name: str) -> Path:
        if self.workdir is None:
            raise RuntimeError("registry is not running")
        return self.workdir / name

    @property
    def log_path(self) -> Path:
        return self._path("registry.log")

    @property
    def config_path(self) -> Path:
        return self._path("config.yml")

    @property
    def storage_dir(self) -> Path:
        return self._path("storage")

    @property
    def ca_cert_path(self) -> Path | None:
        return self._path("ca.pem") if self.tls else None

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What to pass as httpx's `verify=` to trust this registry."""
        if not self.tls:
            return True
        return ssl.create_default_context(cafile=str(self.ca_cert_path))

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client with base_url and TLS trust set (no auth: tests choose)."""
        kwargs.setdefault("timeout", 30.0)
        return httpx.Client(base_url=self.url, verify=self.verify, **kwargs)

    def read_log(self, tail: int | None = None) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except (FileNotFoundError, RuntimeError):
            return ""
        return "\n".join(text.splitlines()[-tail:]) if tail else text

    def __repr__(self) -> str:
        state = self.url if self.port is not None else "stopped"
        return f"RegistryServer(impl={self.impl!r}, auth={self.auth!r}, {state})"

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> RegistryServer:
        if self._proc is not None:
            return self
        self.workdir = Path(tempfile.mkdtemp(prefix=f"dockerfeed-registry-{self.impl}-", dir=self.tmp_root))
        try:
            self.storage_dir.mkdir()
            self._prepare_auth()
            self._prepare_tls()
            last_error: RegistryStartError | None = None
            # Another process may grab the port between free_port() and the registry's bind.
            for _attempt in range(5):
                self.port = free_port()
                try:
                    self._launch()
                    return self
                except RegistryStartError as err:
                    last_error = err
                    if "address already in use" not in str(err).lower():
                        raise
            assert last_error is not None
            raise last_error
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._terminate()
        if self._owns_token_server and self.token_server is not None:
            self.token_server.stop()
            self._owns_token_server = False
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        self.port = None

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # The registry runs in its own session: signal the whole group, so nothing it may
            # have spawned outlives the test run.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # -- configuration ---------------------------------------------------------------------

    def _prepare_auth(self) -> None:
        if self.auth == "htpasswd":
            # Cost 4 (bcrypt's minimum) because the registry re-checks the hash on every
            # request; the default cost 12 would add ~0.2 s to each call.
            lines = [
                f"{name}:{bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4)).decode()}"
                for name, pw in self._users.items()
            ]
            path = self._path("htpasswd")
            path.write_text("\n".join(lines) + "\n")
            path.chmod(0o600)
        elif self.auth == "token":
            if self.token_server is None:
                grants = self._grants if self._grants is not None else default_grants(self._users)
                self.token_server = TokenServer(users=self._users, grants=grants)
                self._owns_token_server = True
            self.token_server.start()
            self._path("token-ca.pem").write_bytes(self.token_server.root_cert_pem())

    def _prepare_tls(self) -> None:
        if not self.tls:
            return
        self.ca = make_ca("dockerfeed registry CA")
        leaf = make_leaf(self.ca, "127.0.0.1", hosts=["127.0.0.1", "localhost"])
        self._path("ca.pem").write_bytes(self.ca.cert_pem())
        self._path("server.pem").write_bytes(leaf.cert_pem())
        key_path = self._path("server-key.pem")
        key_path.write_bytes(leaf.key_pem())
        key_path.chmod(0o600)

    def config(self) -> dict[str, Any]:
        """The registry configuration for the current port (also written to config.yml)."""
        http: dict[str, Any] = {
            "addr": self.host,
            # A fixed secret silences the "no http secret" warning and keeps upload state
            # valid for the process lifetime.
            "secret": secrets.token_hex(16),
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        }
        if self.tls:
            http["tls"] = {
                "certificate": str(self._path("server.pem")),
                "key": str(self._path("server-key.pem")),
            }
        config: dict[str, Any] = {
            "version": "0.1",
            "log": {
                "level": self.log_level,
                "formatter": "text",
                "accesslog": {"disabled": not self.access_log},
            },
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage_dir)},
                "delete": {"enabled": True},
                # No background upload purging: it only adds log noise in short test runs.
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http,
            # The storage-driver health check would add periodic log lines and nothing else.
            "health": {"storagedriver": {"enabled": False}},
        }
        if self.auth == "htpasswd":
            config["auth"] = {"htpasswd": {"realm": "dockerfeed-test", "path": str(self._path("htpasswd"))}}
        elif self.auth == "token":
            assert self.token_server is not None
            config["auth"] = {
                "token": {
                    "realm": self.token_server.realm,
                    "service": self.token_server.service,
                    "issuer": self.token_server.issuer,
                    "rootcertbundle": str(self._path("token-ca.pem")),
                }
            }
        if self.maxentries is not None:
            config["catalog"] = {"maxentries": self.maxentries}
        if self.maxtags is not None:
            config["tags"] = {"maxtags": self.maxtags}
        return config

    def _launch(self) -> None:
        self.config_path.write_text(json.dumps(self.config(), indent=2))
        # REGISTRY_* variables override the config file in distribution; drop any inherited
        # ones so the generated config is the whole truth. v3 initialises OpenTelemetry and
        # would try to export spans to localhost:4318 unless told not to.
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        env["OTEL_TRACES_EXPORTER"] = "none"
        env["OTEL_METRICS_EXPORTER"] = "none"
        if self._log_file is not None:
            self._log_file.close()
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in _terminate
        self._proc = subprocess.Popen(
            [self.binary, "serve", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        last: str = "no answer yet"
        with httpx.Client(verify=self.verify, timeout=2.0) as client:
            while time.monotonic() < deadline:
                code = self._proc.poll()
                if code is not None:
                    self._proc = None
                    raise RegistryStartError(
                        f"{self.impl} registry ({self.binary}) exited with {code} before "
                        f"answering on {self.url}; log:\n{self.read_log(tail=40)}"
                    )
                try:
                    response = client.get(f"{self.url}/v2/")
                    # 401 is "up" too: the auth middleware only runs once the app is ready.
                    if response.status_code in (200, 401):
                        return
                    last = f"HTTP {response.status_code}"
                except httpx.TransportError as err:
                    last = f"{type(err).__name__}: {err}"
                time.sleep(0.05)
        self._terminate()
        raise RegistryStartError(
            f"{self.impl} registry did not answer GET {self.url}/v2/ within "
            f"{self.startup_timeout:.0f}s (last: {last}); log:\n{self.read_log(tail=40)}"
        )


# --------------------------------------------------------------------------- skopeo (peer client)

_USE_REGISTRY_CREDENTIALS: Any = object()


class SkopeoError(RuntimeError):
    pass


class Skopeo:
    """Runs skopeo against a RegistryServer as an independent reference client.

    Credentials go through `--authfile` (a 0600 JSON file in a private temp dir) rather than
    `--creds`, so a password never shows up in a process list or in a failure message.
    """

    def __init__(self, binary: str | None = None, timeout: float = 120.0) -> None:
        self.binary = binary or find_tool("DOCKERFEED_SKOPEO")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Skopeo({self.binary!r})"

    def run(
        self,
        *args: str,
        registry: RegistryServer | None = None,
        auth: tuple[str, str] | None = _USE_REGISTRY_CREDENTIALS,
    ) -> bytes:
        """Run `skopeo <args>` (after the subcommand: --tls-verify=false and --authfile).

        `args[0]` is the subcommand; a `//REPO...` argument is completed to
        `docker://HOST/REPO...` when `registry` is given. auth defaults to the registry's main
        credentials; pass None for anonymous. Returns stdout bytes.
        """
        if not args:
            raise ValueError("skopeo needs a subcommand")
        if auth is _USE_REGISTRY_CREDENTIALS:
            auth = registry.credentials if registry is not None else None
        subcommand, rest = args[0], list(args[1:])
        if registry is not None:
            rest = [f"docker://{registry.host}/{a[2:]}" if a.startswith("//") else a for a in rest]
        with tempfile.TemporaryDirectory(prefix="dockerfeed-skopeo-") as tmp:
            authfile = Path(tmp) / "auth.json"
            auths: dict[str, Any] = {}
            if auth is not None and registry is not None:
                token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
                auths[registry.host] = {"auth": token}
            authfile.touch(mode=0o600)
            authfile.write_text(json.dumps({"auths": auths}))
            argv = [
                self.binary,
                subcommand,
                "--tls-verify=false",
                "--authfile",
                str(authfile),
                *rest,
            ]
            # Keep skopeo away from the developer's own registries.conf/auth files.
            env = {k: v for k, v in os.environ.items() if k != "REGISTRY_AUTH_FILE"}
            env["HOME"] = tmp
            env["XDG_RUNTIME_DIR"] = tmp
            env["XDG_CONFIG_HOME"] = tmp
            proc = subprocess.run(argv, capture_output=True, timeout=self.timeout, env=env, check=False)
        if proc.returncode != 0:
            shown = " ".join(argv[1:]).replace(str(authfile), "<authfile>")
            raise SkopeoError(
                f"skopeo {shown} exited {proc.returncode}: "
                f"{proc.stderr.decode(errors='replace').strip()[-1000:]}"
            )
        return proc.stdout

    def __call__(
        self,
        *args: str,
        registry: RegistryServer | None = None,
        auth: tuple[str, str] | None = _USE_REGISTRY_CREDENTIALS,
    ) -> Any:
        """run() and parse stdout as JSON."""
        return json.loads(self.run(*args, registry=registry, auth=auth))

    def list_tags(
        self,
        registry: RegistryServer,
        repo: str,
        *,
        auth: tuple[str, str] | None = _USE_REGISTRY_CREDENTIALS,
    ) -> list[str]:
        data = self("list-tags", f"//{repo}", registry=registry, auth=auth)
        return list(data.get("Tags") or [])

    def inspect_raw(
        self,
        registry: RegistryServer,
        repo: str,
        reference: str,
        *,
        auth: tuple[str, str] | None = _USE_REGISTRY_CREDENTIALS,
    ) -> bytes:
        """The manifest bytes exactly as served (hash them to get the digest)."""
        sep = "@" if reference.startswith("sha256:") else ":"
        return self.run("inspect", "--raw", f"//{repo}{sep}{reference}", registry=registry, auth=auth)

    def digest(
        self,
        registry: RegistryServer,
        repo: str,
        reference: str,
        *,
        auth: tuple[str, str] | None = _USE_REGISTRY_CREDENTIALS,
    ) -> str:
        raw = self.inspect_raw(registry, repo, reference, auth=auth)
        return "sha256:" + hashlib.sha256(raw).hexdigest()
