"""The gRPC server of the plugin: the SDK's experimental servicer with plain error messages.

`pulumi.provider.experimental.server.ProviderServicer` turns every exception into
"<message>:\n<Python traceback>", which the CLI shows to the user. Here each RPC runs the SDK's
method and, when it fails, aborts the gRPC call with the one plain message instead: the error's
own text for errors meant for the user (registry, resolution, lifecycle, bad ids), and a short
"internal error" line for anything else, whose traceback goes to the plugin's stderr (the CLI
keeps that in its logs, `-v=9 --logtostderr`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from pulumi.provider.experimental.provider import Provider
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from dockerfeed.contract import VERSION
from dockerfeed.plugin.provider import DockerFeedPlugin

# The RPCs the servicer implements through the Provider (Construct/Call/Parameterize are not ours).
RPCS = (
    "GetSchema",
    "CheckConfig",
    "DiffConfig",
    "Configure",
    "Check",
    "Diff",
    "Create",
    "Read",
    "Update",
    "Delete",
    "Invoke",
)

Method = Callable[[Any, Any, Any], Awaitable[Any]]


def user_message(error: BaseException) -> str | None:
    """The message of an error meant for the user, or None for an internal one."""
    from dockerfeed.lifecycle import LifecycleError
    from dockerfeed.plugin.functions import FunctionError
    from dockerfeed.plugin.imports import ImportIdError
    from dockerfeed.plugin.provider import PluginError
    from dockerfeed.registry import RegistryError
    from dockerfeed.resolve import ResolveError

    mine = (FunctionError, ImportIdError, LifecycleError, PluginError, RegistryError, ResolveError)
    if isinstance(error, mine):
        return str(error)
    return None


def original(error: BaseException) -> BaseException:
    """The servicer re-raises `Exception(f"{e}:\\n{traceback}")` from inside `except`: the
    exception the provider raised is the new one's `__context__`."""
    inner = error.__context__
    if inner is not None and type(error) is Exception and str(error).startswith(str(inner)):
        return inner
    return error


def _plain_errors(name: str, method: Method) -> Method:
    async def rpc(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await method(self, request, context)
        except NotImplementedError:
            raise
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if isinstance(e, grpc.aio.AbortError):
                raise
            cause = original(e)
            message = user_message(cause)
            if message is None:
                traceback.print_exception(cause, file=sys.stderr)
                message = (
                    f"internal error of pulumi-resource-dockerfeed in {name}: {type(cause).__name__}: {cause}"
                )
            await context.abort(grpc.StatusCode.UNKNOWN, message)
            raise  # abort() raises; this is not reached

    rpc.__name__ = name
    return rpc


class PlainErrorServicer(ProviderServicer):
    """ProviderServicer whose failures reach the user as one plain message."""


for _name in RPCS:
    setattr(PlainErrorServicer, _name, _plain_errors(_name, getattr(ProviderServicer, _name)))


def serve(argv: list[str], provider: Provider | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pulumi-resource-dockerfeed", description=__doc__)
    parser.add_argument("engine", help="the Pulumi engine's address (the CLI passes it)")
    parser.add_argument("--logflow", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--logtostderr", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tracing", help=argparse.SUPPRESS)
    known, _ = parser.parse_known_args(argv)
    impl = provider or DockerFeedPlugin()

    async def run() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = PlainErrorServicer(argv, VERSION, impl, engine_address=known.engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        await server.start()
        sys.stdout.buffer.write(f"{port}\n".encode())
        sys.stdout.buffer.flush()
        warm = getattr(impl, "warm", None)
        if callable(warm):
            threading.Thread(target=warm, name="dockerfeed-warm", daemon=True).start()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
