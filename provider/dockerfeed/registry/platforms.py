"""A platform (os/architecture[/variant]) and how index entries are matched against it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(re.fullmatch(r"[a-z0-9._-]+", p) for p in parts):
            raise ValueError(
                f"platform {text!r} is not os/arch[/variant] (e.g. linux/amd64 or linux/arm64/v8)"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def matches(self, other: dict[str, Any]) -> bool:
        """Whether an index entry's platform is this one, both normalised as containerd does
        (`linux/arm` is `linux/arm/v7`, `linux/arm64` is `linux/arm64/v8`), so the answer does
        not depend on the order of the index."""
        if str(other.get("os", "")).lower() != self.os:
            return False
        arch, variant = _normal_arch(self.architecture, self.variant)
        have = _normal_arch(str(other.get("architecture", "")), other.get("variant"))
        if self.variant is None and arch not in ("arm", "arm64"):
            return have[0] == arch  # no variant asked for: any (amd64/v2 and v3 alike)
        return have == (arch, variant)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def _normal_arch(arch: str, variant: object) -> tuple[str, str]:
    """containerd's normalizeArch: the canonical architecture and variant ("" for none)."""
    arch, var = arch.lower(), str(variant or "").lower()
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if var == "v1" else var
    if arch in ("aarch64", "arm64"):
        return "arm64", {"8": "", "v8": "", "v8.0": "", "9": "v9", "9.0": "v9", "v9.0": "v9"}.get(var, var)
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        return "arm", {"": "v7", "7": "v7", "5": "v5", "6": "v6", "8": "v8"}.get(var, var)
    if arch == "i386":
        return "386", ""
    return arch, var


__all__ = ["Platform"]
