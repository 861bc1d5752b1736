"""Why a refresh with a password from the state fails, and what to give instead (issue 14).

A dynamic resource's refresh reads with the stored outputs: a password the program gave is the
one the last `pulumi up` had. A short-lived token (ECR 12 h, GCP 1 h, a job's GITHUB_TOKEN) has
expired by the next refresh. The `credentials` input stores where to ask instead, so a refresh
asks the source again; the message names the source that fits the registry.
"""

from __future__ import annotations

from typing import Any


def frozen_password_hint(feed: Any, error: Exception) -> str:
    """A sentence to append to a refresh's credentials failure, or "" when it does not apply."""
    from dockerfeed.registry import BadCredentials, RegistryError, parse_feed_uri
    from dockerfeed.sources import suggest

    if not isinstance(error, BadCredentials) or not isinstance(feed, dict):
        return ""
    if not feed.get("password") or feed.get("credentials"):
        return ""
    try:
        host = parse_feed_uri(str(feed.get("feedUri", ""))).hostname
    except RegistryError:
        return ""
    source = suggest(host, feed.get("username"))
    return (
        ". This refresh used the password stored in the state by the last `pulumi up`; a token "
        "that has expired or rotated since cannot be renewed from there. Give the feed "
        f"{source} instead of password, so every run asks the source (docs/credentials.md), "
        "or run `pulumi up` with the current password"
    )
