"""The native plugin's gRPC server in this process, on a free port, for tests that speak gRPC to it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import grpc
import grpc.aio
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime.proto import provider_pb2_grpc

from dockerfeed.contract import VERSION
from dockerfeed.plugin.provider import DockerFeedPlugin
from dockerfeed.plugin.server import PlainErrorServicer


@contextmanager
def plugin_stub(plugin: DockerFeedPlugin) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """A client stub of a plugin server running on a thread of its own."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def start() -> None:
        server = grpc.aio.server()
        servicer = PlainErrorServicer([], VERSION, plugin, engine_address="127.0.0.1:1")
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        state["port"] = server.add_insecure_port("127.0.0.1:0")
        state["server"] = server
        await server.start()
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    channel = grpc.insecure_channel(f"127.0.0.1:{state['port']}")
    try:
        yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        channel.close()
        asyncio.run_coroutine_threadsafe(state["server"].stop(None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def to_struct(props: dict[str, Any], secret: tuple[str, ...] = ()) -> Any:
    """Plain values -> the wire's Struct (`secret` names top-level keys sent as secrets)."""

    def value(v: Any) -> PropertyValue:
        if isinstance(v, dict):
            return PropertyValue({k: value(x) for k, x in v.items()})
        if isinstance(v, list):
            return PropertyValue([value(x) for x in v])
        return PropertyValue(v)

    return PropertyValue.marshal_map({k: value(v).with_secret(k in secret) for k, v in props.items()})


def from_struct(struct: Any) -> tuple[dict[str, Any], set[str]]:
    """The wire's Struct -> (plain values, dotted paths of the secret values)."""
    secret: set[str] = set()

    def plain(v: PropertyValue, path: str) -> Any:
        if v.is_secret:
            secret.add(path)
        inner = v.value
        if isinstance(inner, Mapping):
            return {k: plain(x, f"{path}.{k}") for k, x in inner.items()}
        if isinstance(inner, Sequence) and not isinstance(inner, str):
            return [plain(x, f"{path}[{i}]") for i, x in enumerate(inner)]
        return inner

    return {k: plain(v, k) for k, v in PropertyValue.unmarshal_map(struct).items()}, secret
