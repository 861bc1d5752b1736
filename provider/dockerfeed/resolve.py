"""Resolution: list a repository's tags, select the winner by version rules, pin its digest.

This is the one core both the Pulumi resources and the `dockerfeed` CLI call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from dockerfeed.registry import (
    ConnectionSettings,
    Platform,
    Registry,
    RegistryError,
    Session,
    default_session,
    normalize_image,
)
from dockerfeed.registry.readahead import ReadAhead
from dockerfeed.registry.reference import TAG_PATTERN, is_tag, split_tags
from dockerfeed.versions import Selection, TagList, VersionRule, select_latest


class ResolveError(Exception):
    """Nothing can be pinned: no tags, or none matches the rules."""


@dataclass(frozen=True)
class Pin:
    tag: str
    version: str
    digest: str
    image_ref: str
    platform_digest: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "version": self.version,
            "digest": self.digest,
            "platformDigest": self.platform_digest,
            "imageRef": self.image_ref,
        }


def _select(tags: Sequence[str], rule: VersionRule, current: str | None) -> tuple[Selection, list[str]]:
    """The selection over the listing's tags, and the listed entries that are not tags.

    A registry may list anything. An entry that is not a tag by the distribution grammar
    (`zz/../../other/manifests/1.0?x=1`) is never chosen: it would become part of a URL path and
    of imageRef. Checking every entry costs more than the selection itself on a long listing, so
    the listing is split only when the selection has no winner or chose such an entry.
    """
    selection = select_latest(tags, rule, current=current)
    if selection.winner is not None and is_tag(selection.winner.tag):
        return selection, []
    valid, invalid = split_tags(tags)
    if not invalid:
        return selection, []
    return select_latest(valid, rule, current=current), invalid


def _skipped(invalid: list[str]) -> str:
    """What was skipped, shown escaped (a listed entry may hold terminal escapes)."""
    shown = ", ".join(repr(entry[:80]) for entry in invalid[:3]) + (", ..." if len(invalid) > 3 else "")
    one = len(invalid) == 1
    return (
        f"{len(invalid)} listed {'entry is' if one else 'entries are'} not a valid tag name and "
        f"{'was' if one else 'were'} skipped (a tag matches {TAG_PATTERN}): {shown}"
    )


def _explain(selection: Selection, invalid: list[str]) -> str:
    """The selection's explanation, with the skipped entries counted beside the other counts."""
    lines = selection.explain().split("\n")
    if invalid:
        at = next((i for i, line in enumerate(lines) if line.startswith("hint:")), len(lines))
        lines.insert(at, f"  {_skipped(invalid)}")
    return "\n".join(lines)


def hints_key(settings: ConnectionSettings) -> str:
    """The key of a feed's read-ahead hints (registry/readahead.py)."""
    return ReadAhead.key(settings.address.base_url, settings.username)


def _read_ahead(registry: Registry, settings: ConnectionSettings, hints: str, repo: str) -> None:
    """Fetch what the project's last run read from this feed's registry (its hints' key), but
    `repo`, ahead of the reads of this run that will ask for it (once per registry, connection
    and process; docs/design.md, "Read-ahead")."""
    session = registry.session
    session.readahead.begin(
        hints,
        registry.identity,
        repo,
        lambda r, t: _fetch_ahead(settings, session, r, t),
        lambda repos: Registry(settings, session).fetch_pull_tokens(repos),
    )


def read_ahead_of_feed(settings: ConnectionSettings) -> None:
    """A feed's refresh, which comes before its images': the read-ahead over the connection its
    images asked through in the last run (the feed's own settings with the API version they
    requested; a feed's outputs hold the version it found instead). Nothing without hints."""
    hints = hints_key(settings)
    requested = default_session().readahead.hints(hints).api_version
    if requested is not None:
        ahead = replace(settings, api_version=requested)
        _read_ahead(Registry(ahead), ahead, hints, "")


def _fetch_ahead(settings: ConnectionSettings, session: Session, repo: str, tag: str | None) -> object:
    """A read-ahead's fetch: the listing of `repo` (tag None) or the digest of `repo:tag`, into
    the run cache the resolves read."""
    registry = Registry(settings, session)
    return _run_tags(registry, repo) if tag is None else _run_digest(registry, repo, tag)


def _run_tags(registry: Registry, repo: str) -> TagList:
    """The listing of `repo`, from the run cache (listed once per run and connection), as one
    TagList that every rule of the run selects from."""
    return registry.session.runs.tags(registry.identity, repo, lambda: TagList(registry.list_tags(repo)))


def _run_digest(registry: Registry, repo: str, tag: str) -> str:
    """The digest of `repo:tag`, from the run cache (asked once per run and connection)."""
    return registry.session.runs.digest(
        registry.identity, repo, tag, lambda: registry.manifest_digest(repo, tag)
    )


def resolve_image(
    settings: ConnectionSettings,
    image: str,
    rule: VersionRule,
    *,
    platform: str | None = None,
    current: str | None = None,
    cached: bool = False,
    session: Session | None = None,
) -> Pin:
    """Pin the latest tag of `image` that `rule` accepts. Raises rather than pin on a bad listing.

    `cached` reuses the session's run cache of listings and digests (a Pulumi run).
    """
    registry = Registry(settings, session)
    runs = registry.session.runs
    repo = normalize_image(image, registry.address)
    wanted = Platform.parse(platform) if platform else None
    connection = registry.identity
    session = registry.session
    hints = hints_key(settings) if cached else ""
    if cached:
        _read_ahead(registry, settings, hints, repo)
    if cached and current is not None and is_tag(current) and not runs.has_tags(connection, repo):
        # A refresh that will wait for the listing: the pinned tag is most often still the
        # winner, so its digest is asked for beside the listing instead of after it
        # (docs/design.md, "The lifecycle of a resolve").
        runs.prefetch_digest(
            connection, repo, current, lambda: Registry(settings, session).manifest_digest(repo, current)
        )
    tags = _run_tags(registry, repo) if cached else registry.list_tags(repo)
    where = f"{repo} on {registry.address.base_url}"
    if not tags:
        raise ResolveError(f"{where} has no tags at all; nothing to pin")
    selection, invalid = _select(tags, rule, current)
    winner = selection.winner
    if not selection.considered:
        raise ResolveError(f"{where} has no tags, nothing to pin: {_skipped(invalid)}")
    if winner is None:
        raise ResolveError(f"no tag of {where} matches the version rules: {_explain(selection, invalid)}")
    # Many ImageVersions of one repository often pick the same tag: one HEAD serves them all.
    tag = winner.tag
    if cached:
        digest = _run_digest(registry, repo, tag)
        session.readahead.pinned(hints, repo, tag, settings.api_version)
    else:
        digest = registry.manifest_digest(repo, tag)
    platform_digest = registry.platform_digest(repo, digest, wanted) if wanted else None
    return Pin(
        tag=winner.tag,
        version=winner.version,
        digest=digest,
        platform_digest=platform_digest,
        image_ref=f"{settings.pull_address}/{repo}:{winner.tag}@{digest}",
    )


__all__ = ["Pin", "RegistryError", "ResolveError", "hints_key", "read_ahead_of_feed", "resolve_image"]
