"""pulumi-dockerfeed: a Docker/OCI registry as a feed of versioned images (docs/design.md).

Importing the package does one thing to the process: it keeps httpx from importing its command
line client. `import httpx` tries `httpx._main` (click, pygments and rich) and falls back to a
stub only when one of them is missing; where click and pygments are installed (pytest and Flask
bring them) that costs ~26 ms before the first request, and more with rich. Nothing here runs
httpx's command line, and `httpx.main()` still exists (it says to install `httpx[cli]`). When
httpx was imported before us, this changes nothing.
"""

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "not importable"
