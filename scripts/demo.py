"""`make demo`: resolve an image version from a real local registry, then show refresh drift.

1. starts a distribution registry with htpasswd auth on a free loopback port;
2. pushes small images demo/webapp:1.0.0, 1.1.0, 1.2.0-beta.1 and latest;
3. `pulumi up` of examples/quickstart (file backend in .demo/, stable versions only) and prints
   the pinned imageRef;
4. pushes 1.2.0 and runs `pulumi refresh`, which shows the drift tag 1.1.0 → 1.2.0;
5. runs `pulumi up` again: no resource changes, the exported imageRef follows the new pin;
6. destroys the stack and stops every process it started.
"""

from __future__ import annotations

import secrets
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.images import push_image  # noqa: E402
from tests.support.servers import RegistryServer  # noqa: E402
from tests.support.stack import example_program, stack  # noqa: E402

REPO = "demo/webapp"


def step(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m", flush=True)


def pin_of(st: object) -> dict[str, str]:
    state = st.export_stack().deployment  # type: ignore[attr-defined]
    for res in state.get("resources", []):
        if res.get("urn", "").endswith("::webapp"):
            return dict(res.get("outputs", {}))
    raise RuntimeError("the webapp ImageVersion is not in the stack state")


def main() -> int:
    started = time.monotonic()
    work = ROOT / ".demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    password = secrets.token_urlsafe(18)
    step("starting a local registry (distribution, htpasswd auth)")
    with RegistryServer("v3", auth="htpasswd", users={"demo": password}) as registry:
        print(f"registry at {registry.url} (user demo)")
        creds = ("demo", password)
        for tag in ("1.0.0", "1.1.0", "1.2.0-beta.1", "latest"):
            digest = push_image(registry.url, REPO, tag, auth=creds)
            print(f"pushed {REPO}:{tag:<13} {digest}")

        st = stack(
            work,
            example_program("quickstart"),
            config={"feedUri": registry.host, "username": "demo", "image": REPO, "preReleaseTag": "^$"},
            secrets={"password": password},
            passphrase="dockerfeed-demo",
        )
        step("pulumi up (stable versions only: preReleaseTag '^$')")
        up = st.up(on_output=print, color="always")
        print(f"\nimageRef = {up.outputs['imageRef'].value}")

        step(f"pushing {REPO}:1.2.0, then pulumi refresh")
        print(f"pushed {REPO}:1.2.0       {push_image(registry.url, REPO, '1.2.0', auth=creds)}")
        before = pin_of(st)
        st.refresh(on_output=print, color="always")
        after = pin_of(st)
        step("drift found by refresh")
        print(f"tag {before['tag']} → {after['tag']}")
        print(f"imageRef {after['imageRef']}")
        print(f"previousTag = {after.get('previousTag')}")

        step("pulumi up: the refreshed pin is already in state, so no resource changes")
        again = st.up(on_output=print, color="always")
        changes = {k: v for k, v in (again.summary.resource_changes or {}).items() if k != "same"}
        print(f"\nimageRef = {again.outputs['imageRef'].value}   (resource changes: {changes or 'none'})")

        step("cleaning up: destroy the stack, stop the registry")
        leaked = [
            p for p in (work / "state").rglob("*") if p.is_file() and password.encode() in p.read_bytes()
        ]
        st.destroy(on_output=lambda _line: None)
        st.workspace.remove_stack(st.name)
        if leaked:
            print(f"the password is in plaintext in {leaked[0]}: this is a bug", file=sys.stderr)
            return 1
        print("the password is nowhere in the state files in plaintext")
    print(f"\ndemo finished in {time.monotonic() - started:.0f}s; every process it started is stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
