"""The `dockerfeed test/tags/search` commands over a recorded registry (MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest

from dockerfeed import cli
from tests.support.recorded import V2, use


@pytest.fixture(autouse=True)
def _registry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, headers=V2)
        if request.url.path == "/v2/_catalog":
            return httpx.Response(
                200, headers=V2, json={"repositories": ["team/api", "team/app", "tools/db"]}
            )
        if request.url.path == "/v2/team/app/tags/list":
            return httpx.Response(200, headers=V2, json={"name": "team/app", "tags": ["1.0", "1.1"]})
        return httpx.Response(404, headers=V2, json={"errors": [{"code": "NAME_UNKNOWN"}]})

    use(handler)  # tests/unit/conftest.py resets the registry package around every test


def test_test_prints_each_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["test", "https://r.example.com", "--image", "team/app"]) == 0
    out = capsys.readouterr().out
    for step in ("address", "api", "auth", "credentials", "catalog", "pull"):
        assert f"  {step}" in out
    assert "team/app: 2 tags" in out
    assert out.endswith("OK: https://r.example.com speaks v2, auth anonymous\n")


def test_test_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["test", "https://r.example.com", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["apiVersion"] == "v2" and data["catalogSupported"] is True
    assert [s["step"] for s in data["steps"]] == ["address", "api", "auth", "credentials", "catalog"]


def test_test_json_failure_is_one_error_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["test", "https://r.example.com", "--image", "team/nothing", "--json"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert set(data) == {"kind", "message", "request"} and captured.err == ""
    assert data["kind"] == "not-found"
    assert "the repository does not exist" in data["message"]
    assert data["request"] == "GET https://r.example.com/v2/team/nothing/tags/list"


def test_tags_and_search(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tags", "https://r.example.com", "team/app"]) == 0
    assert capsys.readouterr().out == "1.0\n1.1\n"
    assert cli.main(["search", "https://r.example.com", "team"]) == 0
    assert capsys.readouterr().out == "team/api\nteam/app\n"
    assert cli.main(["search", "https://r.example.com", "nothing-like-this"]) == 1


def test_missing_ca_file_is_a_clean_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli.main(["tags", "https://r.example.com", "team/app", "--ca-certificate", "/nonexistent/ca.pem"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("dockerfeed: cannot read --ca-certificate /nonexistent/ca.pem: No such file")
