"""Generate the Python side of the contract from schema.json (run by `make codegen`).

schema.json is the single source of truth (docs/design.md, "One contract"). This writes:
  * provider/dockerfeed/contract.py: the property tables, enumerations, defaults, secrets, the
    snake_case names and the version that the pydantic models, the dynamic SDK and both provider
    faces import;
  * provider/dockerfeed/schema.json: the schema the plugin serves (a package-data copy);
  * docs/schema.md: that schema as `pulumi package get-schema` prints it.
`--check` writes nothing and fails when a generated file is stale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schema.json"
CONTRACT = ROOT / "provider" / "dockerfeed" / "contract.py"
SCHEMA_COPY = ROOT / "provider" / "dockerfeed" / "schema.json"
SCHEMA_DOC = ROOT / "docs" / "schema.md"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _tuple(names: list[str], width: int = 60) -> str:
    if not names:
        return "()"
    inner = ", ".join(json.dumps(n) for n in names)
    one_line = f"({inner},)" if len(names) == 1 else f"({inner})"
    if len(one_line) <= width:
        return one_line
    return "(\n" + "".join(f"    {json.dumps(n)},\n" for n in names) + ")"


def _dict(values: dict[str, Any]) -> str:
    if not values:
        return "{}"
    return "{\n" + "".join(f"    {json.dumps(k)}: {_py(v)},\n" for k, v in values.items()) + "}"


def _literal(values: list[str]) -> str:
    return "Literal[" + ", ".join(json.dumps(v) for v in values) + "]"


def _enum_values(schema: dict[str, Any], token: str) -> list[str]:
    return [str(e["value"]) for e in schema["types"][token]["enum"]]


def _defaults(props: dict[str, Any]) -> dict[str, Any]:
    return {k: p["default"] for k, p in props.items() if "default" in p}


def _py(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def contract(schema: dict[str, Any]) -> str:
    feed = schema["resources"]["dockerfeed:index:DockerFeed"]
    image = schema["resources"]["dockerfeed:index:ImageVersion"]
    settings = schema["types"]["dockerfeed:index:FeedSettings"]
    get_iv = schema["functions"]["dockerfeed:index:getImageVersion"]
    get_tags = schema["functions"]["dockerfeed:index:getTags"]
    api_versions = _enum_values(schema, "dockerfeed:index:ApiVersion")
    strategies = _enum_values(schema, "dockerfeed:index:Strategy")
    credential_sources = _enum_values(schema, "dockerfeed:index:CredentialSource")
    credentials = schema["types"]["dockerfeed:index:Credentials"]

    def computed(res: dict[str, Any]) -> list[str]:
        return [n for n in res["properties"] if n not in res["inputProperties"]]

    def secrets(*groups: dict[str, Any]) -> list[str]:
        return sorted({n for g in groups for n, p in g.items() if p.get("secret")})

    names: dict[str, str] = {}
    groups = [
        feed["properties"],
        image["properties"],
        settings["properties"],
        get_iv["inputs"]["properties"],
        get_iv["outputs"]["properties"],
        get_tags["inputs"]["properties"],
        get_tags["outputs"]["properties"],
    ]
    for group in groups:
        for name in group:
            if snake(name) != name:
                names[snake(name)] = name
    feed_defaults = _defaults(feed["inputProperties"])
    image_defaults = _defaults(image["inputProperties"])
    lines = [
        '"""The contract of both provider faces, generated from schema.json by scripts/codegen.py.',
        "",
        "Do not edit: change schema.json and run `make codegen` (CI fails when this file is stale).",
        'See docs/design.md, "One contract".',
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final, Literal",
        "",
        f"VERSION: Final = {json.dumps(schema['version'])}",
        f"PACKAGE: Final = {json.dumps(schema['name'])}",
        'FEED_TOKEN: Final = "dockerfeed:index:DockerFeed"',
        'IMAGE_TOKEN: Final = "dockerfeed:index:ImageVersion"',
        'GET_IMAGE_VERSION_TOKEN: Final = "dockerfeed:index:getImageVersion"',
        'GET_TAGS_TOKEN: Final = "dockerfeed:index:getTags"',
        "",
        "# Enumerations (schema types dockerfeed:index:ApiVersion, Strategy and CredentialSource).",
        f"ApiVersion = {_literal(api_versions)}",
        f"API_VERSIONS: Final[tuple[ApiVersion, ...]] = {_tuple(api_versions)}",
        f"Strategy = {_literal(strategies)}",
        f"STRATEGIES: Final[tuple[Strategy, ...]] = {_tuple(strategies)}",
        f"CredentialSource = {_literal(credential_sources)}",
        f"CREDENTIAL_SOURCES: Final[tuple[CredentialSource, ...]] = {_tuple(credential_sources)}",
        "# The settings of `credentials` (schema type dockerfeed:index:Credentials).",
        f"CREDENTIALS_FIELDS: Final = {_tuple(list(credentials['properties']))}",
        "",
        "# Defaults: what a missing input means.",
        f"DEFAULT_API_VERSION: Final[ApiVersion] = {_py(feed_defaults['apiVersion'])}",
        f"DEFAULT_STRATEGY: Final[Strategy] = {_py(image_defaults['strategy'])}",
        f"DEFAULT_USE_DOCKER_CONFIG: Final = {_py(feed_defaults['useDockerConfig'])}",
        f"DEFAULT_INSECURE_SKIP_TLS_VERIFY: Final = {_py(feed_defaults['insecureSkipTlsVerify'])}",
        f"FEED_DEFAULTS: Final[dict[str, str | bool]] = {_dict(feed_defaults)}",
        f"IMAGE_DEFAULTS: Final[dict[str, str | bool]] = {_dict(image_defaults)}",
        "",
        "# Properties, in schema order: inputs, then the outputs only the provider sets.",
        f"FEED_INPUTS: Final = {_tuple(list(feed['inputProperties']))}",
        f"FEED_REQUIRED_INPUTS: Final = {_tuple(sorted(feed['requiredInputs']))}",
        f"FEED_OUTPUTS: Final = {_tuple(computed(feed))}",
        f"FEED_REQUIRED: Final = {_tuple(sorted(feed['required']))}",
        f"SETTINGS_FIELDS: Final = {_tuple(list(settings['properties']))}",
        f"IMAGE_INPUTS: Final = {_tuple(list(image['inputProperties']))}",
        f"IMAGE_REQUIRED_INPUTS: Final = {_tuple(sorted(image['requiredInputs']))}",
        f"IMAGE_OUTPUTS: Final = {_tuple(computed(image))}",
        f"IMAGE_REQUIRED: Final = {_tuple(sorted(image['required']))}",
        "SECRETS: Final = frozenset({" + ", ".join(json.dumps(n) for n in secrets(*groups)) + "})",
        "",
        "# Functions (invokes): arguments and results.",
        f"GET_IMAGE_VERSION_INPUTS: Final = {_tuple(list(get_iv['inputs']['properties']))}",
        f"GET_IMAGE_VERSION_OUTPUTS: Final = {_tuple(list(get_iv['outputs']['properties']))}",
        f"GET_TAGS_INPUTS: Final = {_tuple(list(get_tags['inputs']['properties']))}",
        f"GET_TAGS_OUTPUTS: Final = {_tuple(list(get_tags['outputs']['properties']))}",
        "",
        "# snake_case (Python SDK) -> camelCase (schema, stack state), for the names that differ.",
        "PY_NAMES: Final[dict[str, str]] = {",
        *(f"    {json.dumps(k)}: {json.dumps(v)}," for k, v in sorted(names.items())),
        "}",
        "",
    ]
    return "\n".join(lines)


def schema_doc(schema: dict[str, Any]) -> str:
    served = {**schema, "config": {}}  # the CLI adds the provider's (empty) config section
    return "\n".join(
        [
            "# The schema the plugin serves",
            "",
            "Generated from schema.json by `make codegen`; `tests/e2e/test_plugin.py` compares it with",
            "what the real CLI prints for the installed plugin:",
            "",
            "```sh",
            "$ pulumi package get-schema dockerfeed",
            "$ pulumi package get-schema $(command -v pulumi-resource-dockerfeed)  # the same, by path",
            "```",
            "",
            "```json",
            json.dumps(served, indent=2, ensure_ascii=False),
            "```",
            "",
        ]
    )


def outputs() -> dict[Path, str]:
    text = SCHEMA.read_text()
    schema = json.loads(text)
    return {CONTRACT: contract(schema), SCHEMA_COPY: text, SCHEMA_DOC: schema_doc(schema)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a generated file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(str(path.relative_to(ROOT)))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"codegen: wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"codegen: stale (run `make codegen`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
