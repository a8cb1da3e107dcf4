"""Write scripts/fc_bytecode.txt: the files of the FC package's ./python the function loads, which
scripts/build_fc_package.py ships with bytecode (the rest ships as source only).

It builds the package, starts it as FC does on a bare Python (scripts/benchmark/package.py) with
PYTHONVERBOSE=1, which names every module file as it is loaded, and calls every door (as
tests/server/test_deploy_package.py does); then again with REDIS_URL, against a local redis-server,
for what the shared callers' store loads. Run it after changing requirements.txt; the bare-Python
package test fails while a door loads a file the list lacks.

    python scripts/fc_bytecode.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import build_fc_package  # noqa: E402
from scripts.benchmark import package  # noqa: E402
from scripts.benchmark.servers import running_emulator  # noqa: E402
from scripts.fc_process import free_port, function_props, stop  # noqa: E402
from tests.redis_fixture import start_redis  # noqa: E402
from tests.server.test_deploy_package import call_every_door  # noqa: E402

HEADER = """# The files of the FC package's ./python the function loads: scripts/build_fc_package.py ships these
# with bytecode, the rest as source only. Written by scripts/fc_bytecode.py: run it after changing
# requirements.txt (tests/server/test_deploy_package.py fails while a door loads a file not listed).
"""


def loaded_files(output: str, built: Path) -> set[str]:
    """The .py files under built/python that PYTHONVERBOSE's output says were loaded (from their
    bytecode or their source), relative to built/python."""
    python = f"{built / 'python'}/"
    found = set()
    # "code object from '<path>.pyc'" (repr) from bytecode, "code object from <path>.py" from source.
    for path in re.findall(r"^# code object from '?([^'\n]+?)'?$", output, re.MULTILINE):
        if path.startswith(python):
            relative = path[len(python):]
            if "__pycache__/" in relative:  # name/__pycache__/module.cpython-311.pyc -> name/module.py
                folder, _, cached = relative.rpartition("__pycache__/")
                relative = folder + cached.split(".", 1)[0] + ".py"
            elif relative.endswith(".pyc"):  # name/module.pyc, shipped without its source -> name/module.py
                relative = relative[:-1]
            found.add(relative)
    return found


def run_package(built: Path, bare_bin: Path, base_url: str, extra_env: dict[str, str], every_door: bool) -> str:
    """Start the package verbosely, answer /invoke (and every door), stop it; return what it printed."""
    port = free_port()
    env = {**package.package_env(built, bare_bin, base_url, port), "PYTHONVERBOSE": "1", "TRY_PAGE": "1", **extra_env}
    output = tempfile.TemporaryFile(mode="w+b")
    process = subprocess.Popen(function_props()["customRuntimeConfig"]["command"], cwd=built, env=env,
                               stdout=output, stderr=subprocess.STDOUT)
    process.output_file = output  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.post(f"{url}/invoke", data=b"hi", timeout=10).status_code == 200:
                break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the package did not start:\n{stop(process)[-3000:]}") from None
            time.sleep(0.02)
    if every_door:
        call_every_door(url)
    return stop(process)


def main() -> None:
    built = build_fc_package.build()
    with running_emulator() as base_url, tempfile.TemporaryDirectory() as scratch:
        bare_bin = package.bare_python(Path(scratch) / "bare")
        files = loaded_files(run_package(built, bare_bin, base_url, {}, every_door=True), built)
        redis_server = start_redis(Path(scratch))
        try:
            files |= loaded_files(run_package(built, bare_bin, base_url, {"REDIS_URL": redis_server.url}, every_door=False), built)
        finally:
            redis_server.kill()
    build_fc_package.BYTECODE_LIST.write_text(HEADER + "".join(f"{name}\n" for name in sorted(files)))
    print(f"{build_fc_package.BYTECODE_LIST.relative_to(ROOT)}: {len(files)} files")


if __name__ == "__main__":
    main()
