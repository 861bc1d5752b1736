"""The native face's floor: a provider plugin on the same SDK server that does nothing.

`pulumi-resource-dockerfeednoop` (a script the benchmark writes, running `main` here) serves the
package `dockerfeednoop`: check returns the inputs, diff says "no changes", create/update/read
return the inputs as outputs. The same gRPC server class as pulumi-resource-dockerfeed, so the
difference between the two is the lifecycle's and the registry's work.
"""

from __future__ import annotations

import sys
import uuid

from pulumi.provider.experimental.provider import (
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

TOKEN = "dockerfeednoop:index:Noop"


class NoopPlugin(Provider):
    async def check_config(self, request: CheckRequest) -> CheckResponse:
        return CheckResponse(inputs=request.new_inputs, failures=[])

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def check(self, request: CheckRequest) -> CheckResponse:
        return CheckResponse(inputs=request.new_inputs, failures=[])

    async def diff(self, request: DiffRequest) -> DiffResponse:
        return DiffResponse(changes=False)

    async def create(self, request: CreateRequest) -> CreateResponse:
        return CreateResponse(resource_id=uuid.uuid4().hex, properties=request.properties)

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        return UpdateResponse(properties=request.news)

    async def read(self, request: ReadRequest) -> ReadResponse:
        return ReadResponse(
            resource_id=request.resource_id, properties=request.properties, inputs=request.inputs
        )

    async def delete(self, request: DeleteRequest) -> None:
        return None


def main() -> None:
    from dockerfeed.plugin.server import serve

    serve(sys.argv[1:], NoopPlugin())


if __name__ == "__main__":
    main()
