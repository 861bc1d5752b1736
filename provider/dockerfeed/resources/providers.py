"""Dynamic resource providers of DockerFeed and ImageVersion.

FROZEN PATH: every stack's state records `dockerfeed.resources.providers.DockerFeedProvider` and
`dockerfeed.resources.providers.ImageVersionProvider` (dynamic providers are pickled by
reference). Never move or rename these classes; if they must move, keep an alias here.
Instances hold no attributes: clients, caches and locks live at module level in `registry/`.

Refresh drift: the engine calls `diff(olds=refreshed outputs, news=stored inputs)` after a
refresh and `diff(olds=outputs, news=program inputs)` on the next `up`. `read` therefore writes
the pin it found (`tag`, `digest`) into the stored inputs, `check` carries it forward, and `diff`
reports a moved pin only while the stored inputs have not acknowledged it yet. The refresh
display then reads `[diff: ~tag, ~digest]`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from dockerfeed import contract
from dockerfeed.resources._values import is_unknown

if TYPE_CHECKING:
    from dockerfeed.resolve import Pin

# The registry client, the resolver and the pydantic models are imported inside the hooks:
# every Pulumi command starts a provider process and imports this module in the program too,
# and most of them (preview, diff-only runs) never need the heavy parts.

# The property lists come from schema.json (dockerfeed/contract.py is generated from it).
FEED_INPUTS = contract.FEED_INPUTS
FEED_OUTPUTS = contract.FEED_OUTPUTS
# The API version a refresh found, written into the stored inputs (as `tag`/`digest` are for
# ImageVersion) so that the refresh's diff can tell a new change from an acknowledged one.
API_SEEN = "apiVersionSeen"
IMAGE_INPUTS = contract.IMAGE_INPUTS
IMAGE_OUTPUTS = contract.IMAGE_OUTPUTS
PIN_KEYS = ("tag", "digest")


class ProviderError(Exception):
    """An error whose message is meant for the person running Pulumi."""


def _inputs(props: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: props[k] for k in names if props.get(k) is not None}


def _changed(old: Any, new: Any) -> bool:
    if is_unknown(new) or is_unknown(old):
        return True
    if isinstance(old, dict) and isinstance(new, dict):
        keys = {k for k, v in {**old, **new}.items() if v is not None}
        return any(_changed(old.get(k), new.get(k)) for k in keys)
    return bool(old != new) and not (old in (None, "", []) and new in (None, "", []))


def _failures(pairs: list[tuple[str, str]]) -> list[CheckFailure]:
    return [CheckFailure(prop, reason) for prop, reason in pairs]


def _message(e: Exception) -> ProviderError:
    return ProviderError(str(e))


class DockerFeedProvider(ResourceProvider):
    """Creating or updating a feed discovers its API version and validates the credentials."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        from dockerfeed.resources.models import FeedInputs, check_failures

        checked = dict(news)
        if olds.get(API_SEEN) and not news.get(API_SEEN):
            checked[API_SEEN] = olds[API_SEEN]
        return CheckResult(checked, _failures(check_failures(FeedInputs, news)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = []
        for key in FEED_INPUTS:
            old, new = olds.get(key), news.get(key)
            # The apiVersion output holds the detected version; `auto` accepts whatever was detected.
            if key == "apiVersion" and not is_unknown(new) and (new in (None, "auto") or new == old):
                continue
            if _changed(old, new):
                changed.append(key)
        # A refresh found another API version and the stored inputs have not acknowledged it.
        if olds.get("previousApiVersion") and news.get(API_SEEN) != olds.get("apiVersion"):
            changed.append("apiVersion")
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def _connect(self, props: dict[str, Any], *, redetect: bool = False) -> dict[str, Any]:
        from dockerfeed.registry import NotARegistry, Registry, RegistryError
        from dockerfeed.resources.models import FeedInputs

        inputs = FeedInputs.model_validate(props)
        try:
            try:
                registry = Registry(inputs.settings())
                info = registry.ping()
            except NotARegistry:
                # On refresh `props` are the outputs, whose apiVersion is the one detected
                # before. When the registry no longer speaks it, detect afresh: a registry that
                # changed API version is drift to show, not an error.
                if not redetect or inputs.api_version == "auto":
                    raise
                inputs = inputs.model_copy(update={"api_version": "auto"})
                registry = Registry(inputs.settings())
                info = registry.ping()
            registry.validate(info)
            catalog = registry.catalog_supported()
        except RegistryError as e:
            raise _message(e) from None
        outs = _inputs(props, FEED_INPUTS)
        outs.update(
            apiVersion=info.api_version,
            registryUrl=info.registry_url,
            pullAddress=info.pull_address,
            authScheme=info.auth_scheme,
            catalogSupported=catalog,
            previousApiVersion=None,
        )
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(uuid.uuid4().hex, self._connect(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._connect(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        before = props.get("apiVersion")
        outs = self._connect(props, redetect=True)
        moved = before is not None and before != outs["apiVersion"]
        outs["previousApiVersion"] = before if moved else props.get("previousApiVersion")
        if not moved:
            return ReadResult(id_, outs)  # a quiet refresh leaves the stored inputs as they are
        # The stored inputs: as given (the requested apiVersion is not kept in the outputs, and
        # `auto` is what a missing one means) plus the version this refresh saw.
        inputs = _inputs(props, tuple(k for k in FEED_INPUTS if k != "apiVersion"))
        inputs[API_SEEN] = outs["apiVersion"]
        return ReadResult(id_, outs, inputs)


def _feed_changed(old: Any, new: Any) -> bool:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return _changed(old, new)
    # `auto` (or unset) accepts whichever version a feed detected earlier; see DockerFeed.diff.
    if new.get("apiVersion") in (None, "auto"):
        old = {k: v for k, v in old.items() if k != "apiVersion"}
        new = {k: v for k, v in new.items() if k != "apiVersion"}
    return _changed(old, new)


def _pin_text(props: dict[str, Any]) -> str | None:
    tag, digest = props.get("tag"), props.get("digest")
    return f"{tag}@{digest}" if tag and digest else None


class ImageVersionProvider(ResourceProvider):
    """Resolves and pins the latest matching tag; `read` re-resolves so refresh shows drift."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        checked = dict(news)
        for key in PIN_KEYS:
            if olds.get(key) and not news.get(key):
                checked[key] = olds[key]
        from dockerfeed.resources.models import ImageVersionInputs, check_failures

        return CheckResult(checked, _failures(check_failures(ImageVersionInputs, news)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in IMAGE_INPUTS if k != "feed" and _changed(olds.get(k), news.get(k))]
        if _feed_changed(olds.get("feed"), news.get("feed")):
            changed.append("feed")
        # A refresh moved the pin and the stored inputs have not acknowledged it yet: drift.
        if olds.get("previousTag") and any(olds.get(k) != news.get(k) for k in PIN_KEYS):
            changed += ["tag", "digest"]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    @staticmethod
    def _resolve(props: dict[str, Any], current: str | None) -> Pin:
        from dockerfeed.registry import RegistryError
        from dockerfeed.resolve import ResolveError, resolve_image
        from dockerfeed.resources.models import ImageVersionInputs

        inputs = ImageVersionInputs.model_validate(props)
        try:
            return resolve_image(
                inputs.feed.settings(),
                inputs.image,
                inputs.rule(),
                platform=inputs.platform,
                current=current,
                cached=True,
            )
        except (RegistryError, ResolveError, ValueError) as e:
            raise _message(e) from None

    @staticmethod
    def _outputs(props: dict[str, Any], pin: Pin, previous_tag: str | None) -> dict[str, Any]:
        outs = _inputs(props, IMAGE_INPUTS)
        outs.update(
            tag=pin.tag,
            version=pin.version,
            digest=pin.digest,
            platformDigest=pin.platform_digest,
            imageRef=pin.image_ref,
            previousTag=previous_tag,
        )
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        pin = self._resolve(props, None)
        return CreateResult(uuid.uuid4().hex, self._outputs(props, pin, None))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        pin = self._resolve(news, olds.get("tag"))
        return UpdateResult(self._outputs(news, pin, None))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # On refresh `props` are the stored outputs, which carry every input too.
        pin = self._resolve(props, props.get("tag"))
        old_pin = _pin_text(props)
        moved = old_pin is not None and old_pin != f"{pin.tag}@{pin.digest}"
        previous = props.get("tag") if moved else props.get("previousTag")
        outs = self._outputs(props, pin, previous)
        inputs = _inputs(props, IMAGE_INPUTS)
        inputs.update(tag=pin.tag, digest=pin.digest)
        return ReadResult(id_, outs, inputs)
