"""ImageVersion: resolve and pin a tag, keep the pin while only the connection changes, and tell a
move a refresh found from one the stored inputs already acknowledge (docs/design.md, "Lifecycle").
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from dockerfeed import contract
from dockerfeed.lifecycle.frozen import frozen_password_hint
from dockerfeed.lifecycle.results import Checked, Diffed, LifecycleError, Read
from dockerfeed.lifecycle.values import UNKNOWN, changed, given, has_unknown, is_unknown, with_defaults

if TYPE_CHECKING:
    from dockerfeed.resolve import Pin

TOKEN = contract.IMAGE_TOKEN
IMAGE_INPUTS = contract.IMAGE_INPUTS
IMAGE_OUTPUTS = contract.IMAGE_OUTPUTS
# The properties that pick the tag: changing one of them (or `image`, or the registry) resolves anew.
RULES = ("versionRange", "preReleaseTag", "tagInclude", "tagExclude", "strategy", "variant", "platform")
RULE_DEFAULTS = contract.IMAGE_DEFAULTS
# The pin as the stored inputs acknowledge it (same names and values as the outputs).
PIN = ("tag", "version", "digest", "platformDigest", "imageRef")
# Set in the outputs by a refresh that moved the pin: {property: value before the move}. Only read
# when the stored inputs carry no pin (state written before a refresh ever moved it).
MOVED = "__moved"


# ------------------------------------------------------------------------------ registry work


def resolve_pin(props: dict[str, Any], current: str | None) -> Pin:
    """The tag the rules pick now, with its digest. Raises rather than pin on a bad listing."""
    from dockerfeed.registry import RegistryError
    from dockerfeed.resolve import ResolveError, resolve_image

    inputs = _model(props)
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
        raise LifecycleError(str(e), e) from None


def verify_pin(props: dict[str, Any], tag: str, digest: str) -> None:
    """The pinned manifest is still there for these settings (new credentials, CA, address…)."""
    from dockerfeed.registry import Registry, RegistryError

    inputs = _model(props)
    where = f"the pinned {inputs.image}:{tag}@{digest}"
    try:
        found = Registry(inputs.feed.settings()).manifest_digest(inputs.image, digest)
    except (RegistryError, ValueError) as e:
        raise LifecycleError(f"{where} could not be verified with the new feed settings: {e}") from None
    if found != digest:
        raise LifecycleError(f"{where} could not be verified: the registry answered {found}")


def _model(props: dict[str, Any]) -> Any:
    """The inputs as a resolve needs them: read plainly when they are of the stored shape
    (plain.py: no pydantic on a refresh), else validated by the models."""
    from dockerfeed.lifecycle import plain

    found = plain.image(props)
    if found is not None:
        return found
    from pydantic import ValidationError

    from dockerfeed.lifecycle.models import ImageVersionInputs

    try:
        return ImageVersionInputs.model_validate(props)
    except ValidationError as e:
        raise LifecycleError(f"invalid ImageVersion inputs: {e}") from None


# ------------------------------------------------------------------------------ pure rules


def source(props: dict[str, Any]) -> tuple[str, str] | None:
    """(registry base URL, repository) a pin comes from; None when not known (yet) or invalid."""
    from dockerfeed.registry import RegistryError, normalize_image, parse_feed_uri

    feed, image = props.get("feed"), props.get("image")
    if not isinstance(feed, dict) or not isinstance(image, str) or is_unknown(image):
        return None
    uri, insecure = feed.get("feedUri"), feed.get("insecureSkipTlsVerify")
    if not isinstance(uri, str) or is_unknown(uri) or is_unknown(insecure):
        return None
    try:
        address = parse_feed_uri(uri, insecure=bool(insecure))
        return address.base_url, normalize_image(image, address)
    except RegistryError:
        return None


def _rule(props: dict[str, Any], key: str) -> Any:
    value = props.get(key)
    return RULE_DEFAULTS.get(key, value) if value is None or value == "" else value


def needs_resolve(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """A new resolve: the first one, another image or registry, or another rule. Connection
    settings alone (credentials, CA, TLS flags, apiVersion, an alias of the same registry,
    registryPath) never re-resolve."""
    old_source = source(olds)
    if old_source is None or old_source != source(news):
        return True
    return any(changed(_rule(olds, k), _rule(news, k)) for k in RULES)


def current_tag(olds: dict[str, Any], news: dict[str, Any]) -> str | None:
    """The pinned tag a resolve starts from (the docker strategy keeps its variant and part
    count); none when the image or the registry changed: that is a fresh resolve."""
    old_source = source(olds)
    tag = olds.get("tag")
    if old_source is None or old_source != source(news) or not isinstance(tag, str):
        return None
    return tag


def pin_of(props: dict[str, Any]) -> tuple[str, str] | None:
    tag, digest = props.get("tag"), props.get("digest")
    if isinstance(tag, str) and isinstance(digest, str) and tag and digest and not has_unknown([tag, digest]):
        return tag, digest
    return None


def carries_pin(props: dict[str, Any]) -> bool:
    """The properties carry a whole pin as the lifecycle stores it (tag, version, digest, imageRef)."""
    return all(props.get(k) is not None for k in ("tag", "version", "digest", "imageRef"))


def image_ref(props: dict[str, Any], tag: str, digest: str) -> str:
    """`<pullAddress>/<repository>:<tag>@<digest>` for the feed settings in `props` (UNKNOWN
    while the address is not known; credentials play no part)."""
    from dockerfeed.registry import ConnectionSettings, RegistryError, normalize_image

    feed, image = props.get("feed"), props.get("image")
    if not isinstance(feed, dict) or not isinstance(image, str) or is_unknown(image):
        return UNKNOWN
    uri, path, insecure = (feed.get(k) for k in ("feedUri", "registryPath", "insecureSkipTlsVerify"))
    if not isinstance(uri, str) or has_unknown([uri, path, insecure]):
        return UNKNOWN
    try:
        settings = ConnectionSettings(
            feed_uri=uri,
            registry_path=path if isinstance(path, str) else None,
            insecure_skip_tls_verify=bool(insecure),
        )
        return f"{settings.pull_address}/{normalize_image(image, settings.address)}:{tag}@{digest}"
    except RegistryError:
        return UNKNOWN


def _pin_fields(props: dict[str, Any], pin: Pin) -> dict[str, Any]:
    return {
        "tag": pin.tag,
        "version": pin.version,
        "digest": pin.digest,
        "platformDigest": pin.platform_digest,
        "imageRef": image_ref(props, pin.tag, pin.digest),
    }


def _carried(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    """The pin of `olds` under the settings of `news` (imageRef follows the pull address)."""
    fields = {k: olds.get(k) for k in PIN}
    fields["imageRef"] = image_ref(news, str(olds["tag"]), str(olds["digest"]))
    return fields


def _feed_changed(old: Any, new: Any) -> bool:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return changed(old, new)
    defaults = {k: v for k, v in contract.FEED_DEFAULTS.items() if k != "apiVersion"}
    old, new = with_defaults(old, defaults), with_defaults(new, defaults)
    # `auto` (or unset) accepts whichever version was detected earlier; see FeedLifecycle.diff.
    if not is_unknown(new.get("apiVersion")) and new.get("apiVersion") in (None, "auto"):
        old = {k: v for k, v in old.items() if k != "apiVersion"}
        new = {k: v for k, v in new.items() if k != "apiVersion"}
    return changed(old, new)


def _no_none(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if v is not None}


def inputs_from(outputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs the lifecycle stores for these outputs: the program's inputs and the pin."""
    return {**given(outputs, IMAGE_INPUTS), **given(outputs, PIN)}


class ImageVersionLifecycle:
    """Pin rules of ImageVersion on plain camelCase property dicts (see docs/design.md)."""

    token = TOKEN
    inputs = IMAGE_INPUTS
    outputs = IMAGE_OUTPUTS
    # What the dynamic face keeps in the stored inputs beyond the program's inputs.
    stored = PIN

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> Checked:
        """Validate `news`; carry the stored pin forward unless a new resolve will decide it."""
        from dockerfeed.lifecycle.models import ImageVersionInputs, check_failures

        failures = check_failures(ImageVersionInputs, news)
        inputs = given(news, IMAGE_INPUTS)
        if not failures and carries_pin(olds) and pin_of(olds) and not needs_resolve(olds, inputs):
            inputs.update(_no_none(_carried(olds, inputs)))
        return Checked(inputs, failures)

    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed:
        """`olds` are the stored outputs; `news` the checked inputs (on refresh: the stored inputs)."""
        found = [k for k in ("image", *RULES) if changed(_rule(olds, k), _rule(news, k))]
        if _feed_changed(olds.get("feed"), news.get("feed")):
            found.append("feed")
        if carries_pin(news):
            # The pin the inputs acknowledge against the one in the outputs: after a refresh that
            # moved it they differ (drift); the next check carries the refreshed pin, so up agrees.
            found += [k for k in PIN if changed(olds.get(k), news.get(k))]
        elif isinstance(olds.get(MOVED), dict):
            before = olds[MOVED]
            found += [k for k in ("tag", "digest") if k in before and before[k] != olds.get(k)]
        order = [*IMAGE_INPUTS, *PIN]
        return Diffed(sorted(set(found), key=order.index))

    def create(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Resolve and pin (inputs that already carry a pin, as the dynamic face's check resolved
        it in this same run, keep it)."""
        fields = {k: inputs.get(k) for k in PIN} if carries_pin(inputs) else None
        if fields is None:
            fields = _pin_fields(inputs, resolve_pin(inputs, None))
        return uuid.uuid4().hex, {**given(inputs, IMAGE_INPUTS), **fields, "previousTag": None}

    def update(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """A new resolve when image, registry or a rule changed; otherwise the same pin, verified
        with the new connection settings."""
        old_pin = pin_of(olds)
        resolving = old_pin is None or needs_resolve(olds, news)
        kept = pin_of(news) if carries_pin(news) else None
        if kept is not None:
            # The checked inputs carry the pin: kept from the stored inputs, or (dynamic face)
            # resolved by this run's check. A kept pin is verified under the new settings.
            fields = {k: news.get(k) for k in PIN}
            if not resolving:
                verify_pin(news, *kept)
        elif resolving:
            fields = _pin_fields(news, resolve_pin(news, current_tag(olds, news)))
        else:
            assert old_pin is not None
            verify_pin(news, *old_pin)
            fields = _carried(olds, news)
        pin = (fields["tag"], fields["digest"])
        previous = olds.get("tag") if old_pin is not None and pin != old_pin else olds.get("previousTag")
        return {**given(news, IMAGE_INPUTS), **fields, "previousTag": previous}

    def read(self, id: str, outputs: dict[str, Any], inputs: dict[str, Any] | None = None) -> Read:
        """Re-resolve. Nothing moved: outputs and inputs come back exactly as stored. Moved:
        the new pin in both, `previousTag` the tag it moved from."""
        old_pin = pin_of(outputs)
        try:
            pin = resolve_pin(outputs, outputs.get("tag") if old_pin else None)
        except LifecycleError as e:
            # A password from the state that no longer works: say which source to give instead.
            hint = frozen_password_hint(outputs.get("feed"), e.error) if e.error else ""
            raise LifecycleError(str(e) + hint, e.error) from None
        stored = dict(inputs) if inputs is not None else inputs_from(outputs)
        if old_pin == (pin.tag, pin.digest) and carries_pin(outputs):
            return Read(id, dict(outputs), stored)
        fields = _pin_fields(outputs, pin)
        outs = {**given(outputs, IMAGE_INPUTS), **fields}
        if old_pin is None:
            outs["previousTag"] = outputs.get("previousTag")
        elif old_pin != (pin.tag, pin.digest):
            outs["previousTag"] = old_pin[0]
            outs[MOVED] = {"tag": old_pin[0], "digest": old_pin[1]}
        else:
            outs["previousTag"] = outputs.get("previousTag")
        return Read(id, outs, {**stored, **_no_none(fields)})

    def preview(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """The outputs a preview shows: the pin where it is kept, UNKNOWN where a resolve decides."""
        outs = given(news, IMAGE_INPUTS)
        if carries_pin(news):
            outs.update({k: news.get(k) for k in PIN}, previousTag=olds.get("previousTag"))
        elif olds and not needs_resolve(olds, news):
            # The pin stays. State from before pins were stored in the inputs has none to show:
            # the operation keeps whatever the stored outputs hold.
            if pin_of(olds) and carries_pin(olds):
                outs.update(_carried(olds, news), previousTag=olds.get("previousTag"))
        else:
            platform = news.get("platform")
            outs.update({k: UNKNOWN for k in PIN})
            if platform is None:
                outs["platformDigest"] = None
            outs["previousTag"] = UNKNOWN if pin_of(olds) else None
        return outs

    def settle(self, olds: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        """Checked inputs with the pin a new resolve decides (what the dynamic face stores, since
        its create and update cannot change the stored inputs). Kept pins need no registry."""
        if carries_pin(inputs) or (olds and not needs_resolve(olds, inputs)):
            return inputs
        pin = resolve_pin(inputs, current_tag(olds, inputs) if olds else None)
        return {**inputs, **_no_none(_pin_fields(inputs, pin))}


IMAGE = ImageVersionLifecycle()
