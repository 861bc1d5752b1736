"""`pulumi-resource-dockerfeed`: the native provider plugin (the second face of the one lifecycle).

The Pulumi CLI starts it with the engine's address as the only argument; it serves gRPC on a free
loopback port and prints the port. `pulumi-resource-dockerfeed --version` prints the version.
"""

from __future__ import annotations

import sys

from dockerfeed.contract import VERSION


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] in (["--version"], ["-V"]):
        print(VERSION)
        return
    from dockerfeed.plugin.server import serve

    serve(args)
