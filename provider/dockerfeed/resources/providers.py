"""Dynamic resource providers of DockerFeed and ImageVersion: thin adapters over `dockerfeed.lifecycle`.

FROZEN PATH: every stack's state records `dockerfeed.resources.providers.DockerFeedProvider` and
`dockerfeed.resources.providers.ImageVersionProvider` (dynamic providers are pickled by
reference). Never move or rename these classes; if they must move, keep an alias here.
Instances hold no attributes: clients, caches and locks live at module level in `registry/`.

What only this face does (docs/design.md, "Lifecycle"): a dynamic provider's create and update
cannot change the stored inputs, and a preview shows the checked inputs as the outputs. So
`check` returns the inputs with the pin (ImageVersion) or what the registry answered
(DockerFeed): kept from the stored inputs, resolved now when the operation will resolve anew,
or, during a preview, unknown where a new resolve will decide. The SDK marks a preview with the
input `__dryRun`. `read` hands back new inputs only when something moved, so a quiet refresh
leaves the stored inputs exactly as they were.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from dockerfeed.lifecycle import (
    FEED,
    FEED_INPUTS,
    FEED_OUTPUTS,
    IMAGE,
    IMAGE_INPUTS,
    IMAGE_OUTPUTS,
    FeedLifecycle,
    ImageVersionLifecycle,
    LifecycleError,
)

PROVIDER_KEY = "__provider"  # the pickled provider; pulumi.dynamic adds it back to every answer
DRY_RUN = "__dryRun"  # set by the SDK during a preview (pulumi.runtime.is_dry_run())

__all__ = [
    "DRY_RUN",
    "FEED_INPUTS",
    "FEED_OUTPUTS",
    "IMAGE_INPUTS",
    "IMAGE_OUTPUTS",
    "DockerFeedProvider",
    "ImageVersionProvider",
    "ProviderError",
]


class ProviderError(Exception):
    """An error whose message is meant for the person running Pulumi."""


def _props(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}


class _Adapter(ResourceProvider):
    @staticmethod
    def _lifecycle() -> FeedLifecycle | ImageVersionLifecycle:
        raise NotImplementedError

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        lifecycle = self._lifecycle()
        dry_run = news.get(DRY_RUN) is True
        olds = _props(olds)
        checked = lifecycle.check(olds, {k: v for k, v in news.items() if not k.startswith("__")})
        if checked.failures:
            return CheckResult(checked.inputs, [CheckFailure(p, reason) for p, reason in checked.failures])
        if dry_run:
            shown = lifecycle.preview(olds, checked.inputs)
            extra = {k: shown[k] for k in lifecycle.stored if shown.get(k) is not None}
            return CheckResult({**checked.inputs, **extra}, [])
        try:
            return CheckResult(lifecycle.settle(olds, checked.inputs), [])
        except LifecycleError as e:
            raise ProviderError(str(e)) from None

    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        found = self._lifecycle().diff(id, _props(olds), _props(news))
        return DiffResult(changes=found.changes, replaces=found.replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        try:
            id_, outputs = self._lifecycle().create(_props(props))
        except LifecycleError as e:
            raise ProviderError(str(e)) from None
        return CreateResult(id_, outputs)

    def update(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        try:
            return UpdateResult(self._lifecycle().update(id, _props(olds), _props(news)))
        except LifecycleError as e:
            raise ProviderError(str(e)) from None

    def read(self, id: str, props: dict[str, Any]) -> ReadResult:
        # On refresh `props` are the stored outputs (they carry every input too); on `get` the
        # program's inputs.
        outputs = _props(props)
        try:
            found = self._lifecycle().read(id, outputs)
        except LifecycleError as e:
            raise ProviderError(str(e)) from None
        if found.outputs == outputs:
            return ReadResult(found.id, found.outputs)  # nothing moved: the stored inputs stay
        return ReadResult(found.id, found.outputs, found.inputs)


class DockerFeedProvider(_Adapter):
    """Creating or updating a feed discovers its API version and validates the credentials."""

    @staticmethod
    def _lifecycle() -> FeedLifecycle:
        return FEED


class ImageVersionProvider(_Adapter):
    """Resolves and pins the latest matching tag; `read` re-resolves so refresh shows drift."""

    @staticmethod
    def _lifecycle() -> ImageVersionLifecycle:
        return IMAGE
