"""What importing the registry client costs: nothing of httpx's command-line client.

httpx imports its command line (`httpx._main`: click, pygments, rich) when `import httpx` runs,
and it only falls back to a stub when one of them is missing. With click and pygments present
(Flask and pytest bring them, as in this virtualenv) and rich absent, that is ~26 ms of imports
for nothing, paid by the first read of every refresh and by every CLI command that talks to a
registry (benchmarks/findings.md, "A tenth look").
"""

from __future__ import annotations

import subprocess
import sys

CLI_MODULES = ("click", "pygments", "rich")


def _imported_after(statement: str) -> list[str]:
    shown = f"print(' '.join(m for m in {CLI_MODULES!r} if m in sys.modules))"
    code = f"import sys\n{statement}\n{shown}\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.split()


def test_the_registry_client_does_not_import_httpx_command_line() -> None:
    assert _imported_after("import dockerfeed.registry") == []


def test_the_credential_sources_do_not_import_it_either() -> None:
    assert _imported_after("import dockerfeed.sources") == []


def test_httpx_still_works_and_its_cli_says_why_it_cannot_run() -> None:
    code = (
        "import dockerfeed.registry, httpx\n"
        "assert httpx.Client and httpx.MockTransport\n"
        "try:\n    httpx.main()\nexcept SystemExit as e:\n    print('exit', e.code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'httpx[cli]'" in out
    assert out.strip().endswith("exit 1")
