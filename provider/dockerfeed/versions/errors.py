"""The one error kind of the versions package: a rule property that cannot be used."""

from __future__ import annotations

# Property names are the camelCase names of schema.json, because the Pulumi `check` hook turns
# each error into a CheckFailure on that property and the CLI shows the same words.
RULE_PROPERTIES = (
    "versionRange",
    "preReleaseTag",
    "tagInclude",
    "tagExclude",
    "strategy",
    "variant",
)


class VersionRuleError(ValueError):
    """A version rule property is invalid.

    `property` is the schema name of the offending property, `reason` a sentence saying what is
    wrong and how to fix it. For ranges, `position` is the 0-based index of the offending
    character in `text`, and str(error) draws a caret under it.
    """

    def __init__(
        self,
        property: str,
        reason: str,
        *,
        text: str | None = None,
        position: int | None = None,
    ) -> None:
        self.property = property
        self.reason = reason
        self.text = text
        self.position = position
        super().__init__(self._message())

    def _message(self) -> str:
        message = f"{self.property}: {self.reason}"
        if self.text is not None and self.position is not None:
            # Two extra lines so a terminal (or a Pulumi diagnostic) shows where the problem is.
            message += f"\n    {self.text}\n    {' ' * self.position}^"
        return message

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments do not survive the default exception pickling; the dynamic
        # provider host may pickle errors across its worker boundary.
        return (_rebuild, (self.property, self.reason, self.text, self.position))


def _rebuild(property: str, reason: str, text: str | None, position: int | None) -> VersionRuleError:
    return VersionRuleError(property, reason, text=text, position=position)
