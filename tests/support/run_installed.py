"""Run examples/quickstart's program inline through the Automation API with nothing but what a
`pip install` of the wheel provides (CI starts this with `python -I`, so the repository is not
on sys.path). Prints the outputs as JSON.

    python -I run_installed.py WORK_DIR PROGRAM_FILE FEED_URI IMAGE USER PASSWORD
"""

import json
import os
import runpy
import sys
from pathlib import Path

from pulumi import automation as auto

work, program_file, feed_uri, image, user, password = sys.argv[1:7]
state = Path(work) / "state"
state.mkdir(parents=True, exist_ok=True)
env = {
    "PULUMI_BACKEND_URL": f"file://{state}",
    "PULUMI_CONFIG_PASSPHRASE": "installed",
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PULUMI_HOME": str(Path(work) / "home"),
    "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
    "PULUMI_RUNTIME_VIRTUALENV": str(Path(sys.executable).parent.parent),
    "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
}


def program() -> None:
    runpy.run_path(program_file, run_name="__main__")


st = auto.create_or_select_stack(
    stack_name="dev",
    project_name="dockerfeed-installed",
    program=program,
    opts=auto.LocalWorkspaceOptions(
        work_dir=work,
        env_vars=env,
        project_settings=auto.ProjectSettings(name="dockerfeed-installed", runtime="python"),
    ),
)
st.set_config("feedUri", auto.ConfigValue(feed_uri))
st.set_config("image", auto.ConfigValue(image))
st.set_config("username", auto.ConfigValue(user))
st.set_config("password", auto.ConfigValue(password, secret=True))
result = st.up()
import dockerfeed  # noqa: E402  (where the provider came from, for the test to check)

print(
    json.dumps(
        {"outputs": {k: v.value for k, v in result.outputs.items()}, "dockerfeed": dockerfeed.__file__}
    )
)
