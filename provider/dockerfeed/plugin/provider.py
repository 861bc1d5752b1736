"""The native face: a `pulumi.provider.experimental.Provider` adapting gRPC requests to the lifecycle.

Every resource operation goes to `dockerfeed.lifecycle` (the one lifecycle both faces share) on
plain property dictionaries; this module only converts values (dockerfeed.plugin.values), picks
the lifecycle by type token, and runs the blocking registry work off the event loop. Functions
(invokes) call the resolver and the registry directly (dockerfeed.plugin.functions).
"""

from __future__ import annotations

import asyncio
import importlib.resources
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from dockerfeed import contract
from dockerfeed.plugin.values import plain, wire

if TYPE_CHECKING:
    from dockerfeed.lifecycle import Checked, Diffed, Read

T = TypeVar("T")


class PluginError(Exception):
    """An error of the request itself (unknown type, bad import id): one plain message."""


class ReadLike(Protocol):
    """A refresh's (or an import's) answer: `lifecycle.Read` or `imports.Imported`."""

    @property
    def id(self) -> str: ...
    @property
    def outputs(self) -> dict[str, Any]: ...
    @property
    def inputs(self) -> dict[str, Any]: ...


class Lifecycle(Protocol):
    """What the plugin needs of `dockerfeed.lifecycle.FEED` / `IMAGE` (see docs/design.md)."""

    token: str

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> Checked: ...
    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed: ...
    def create(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]: ...
    def update(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]: ...
    def read(self, id: str, outputs: dict[str, Any], inputs: dict[str, Any] | None = None) -> Read: ...
    def preview(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]: ...


def _default_lifecycles() -> dict[str, Lifecycle]:
    # The lifecycle imports the resolver and the registry client when it first needs them;
    # importing them here lets `warm` do it off the critical path.
    import dockerfeed.resolve  # noqa: F401
    from dockerfeed.lifecycle import FEED, IMAGE

    return {FEED.token: FEED, IMAGE.token: IMAGE}


def schema_text() -> str:
    return importlib.resources.files("dockerfeed").joinpath("schema.json").read_text(encoding="utf-8")


def _resource_type(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<parent types $>type::<name>
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def _diff_kind(old: Any, new: Any, is_input: bool, replace: bool) -> PropertyDiffKind:
    if old is None:
        return PropertyDiffKind.ADD_REPLACE if replace else PropertyDiffKind.ADD
    if is_input and new is None:
        return PropertyDiffKind.DELETE_REPLACE if replace else PropertyDiffKind.DELETE
    return PropertyDiffKind.UPDATE_REPLACE if replace else PropertyDiffKind.UPDATE


class DockerFeedPlugin(Provider):
    """GetSchema, config, CRUD for DockerFeed and ImageVersion, and the two functions."""

    def __init__(
        self,
        lifecycles: Callable[[], dict[str, Lifecycle]] = _default_lifecycles,
        workers: int = 16,
    ) -> None:
        self._load = lifecycles
        self._lifecycles: dict[str, Lifecycle] | None = None
        # The lifecycle blocks on the registry; the engine sends many requests at once.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dockerfeed")

    def warm(self) -> None:
        """Load the lifecycles (and with them the registry client and the resolver).

        The server calls this on a thread once its port is out, so that the imports (a few
        hundred milliseconds) overlap the engine's handshake instead of delaying the first
        Check; a request that comes first simply loads them itself.
        """
        if self._lifecycles is None:
            self._lifecycles = self._load()

    def _lifecycle(self, urn: str) -> Lifecycle:
        self.warm()
        assert self._lifecycles is not None
        token = _resource_type(urn)
        found = self._lifecycles.get(token)
        if found is None:
            raise PluginError(
                f"unknown resource type {token!r}: this provider has {sorted(self._lifecycles)}"
            )
        return found

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    # -- provider --------------------------------------------------------------------------

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=schema_text())

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        # The provider has no configuration of its own: every setting is on the resources.
        return CheckResponse(inputs=request.new_inputs, failures=[])

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        return DiffResponse(changes=False)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    # -- resources -------------------------------------------------------------------------

    async def check(self, request: CheckRequest) -> CheckResponse:
        life = self._lifecycle(request.urn)
        olds, _ = plain(request.old_inputs)
        news, secret = plain(request.new_inputs)
        checked: Checked = await self._run(life.check, olds, news)
        failures = [CheckFailure(prop, reason) for prop, reason in checked.failures]
        return CheckResponse(inputs=wire(checked.inputs, secret), failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        life = self._lifecycle(request.urn)
        olds, _ = plain(request.old_state)
        news, _ = plain(request.new_inputs)
        diffed: Diffed = await self._run(life.diff, request.resource_id, olds, news)
        replaces = list(diffed.replaces)
        changed = list(dict.fromkeys([*diffed.changed, *replaces]))
        inputs = set(contract.FEED_INPUTS) | set(contract.IMAGE_INPUTS)
        detailed = {
            name: PropertyDiff(
                _diff_kind(olds.get(name), news.get(name), name in inputs, name in replaces),
                input_diff=name in inputs,
            )
            for name in changed
        }
        return DiffResponse(
            changes=diffed.changes,
            replaces=replaces,
            diffs=changed,
            detailed_diff=detailed,
            delete_before_replace=False,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        life = self._lifecycle(request.urn)
        inputs, secret = plain(request.properties)
        if request.preview:
            outputs = await self._run(life.preview, {}, inputs)
            return CreateResponse(resource_id="", properties=wire(outputs, secret))
        resource_id, outputs = await self._run(life.create, inputs)
        return CreateResponse(resource_id=resource_id, properties=wire(outputs, secret))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        life = self._lifecycle(request.urn)
        olds, _ = plain(request.olds)  # the stored outputs
        news, secret = plain(request.news)
        if request.preview:
            outputs = await self._run(life.preview, olds, news)
        else:
            outputs = await self._run(life.update, request.resource_id, olds, news)
        return UpdateResponse(properties=wire(outputs, secret))

    async def read(self, request: ReadRequest) -> ReadResponse:
        life = self._lifecycle(request.urn)
        outputs, out_secret = plain(request.properties)
        inputs, in_secret = plain(request.inputs)
        if not outputs and not inputs:
            # `pulumi import`: nothing but the id is known.
            from dockerfeed.plugin.imports import import_resource

            read: ReadLike = await self._run(import_resource, life.token, request.resource_id)
        else:
            read = await self._run(life.read, request.resource_id, outputs, inputs or None)
        return ReadResponse(
            resource_id=read.id,
            properties=wire(read.outputs, out_secret | in_secret),
            # Always the inputs: leaving them out stores none (the experimental API's default).
            inputs=wire(read.inputs, in_secret | out_secret),
        )

    async def delete(self, request: DeleteRequest) -> None:
        # Nothing lives outside the stack: a feed and a pin are records, not registry objects.
        return None

    # -- functions -------------------------------------------------------------------------

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        from dockerfeed.plugin import functions

        args, _ = plain(request.args)
        result: functions.Result = await self._run(functions.invoke, request.tok, args)
        failures = [CheckFailure(prop, reason) for prop, reason in result.failures]
        return InvokeResponse(return_value=wire(result.value) if not failures else None, failures=failures)
