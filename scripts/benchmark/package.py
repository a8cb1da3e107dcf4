"""The FC code package, measured: its size zipped (what FC downloads and unpacks at a cold start),
and its cold start on a bare Python (spawn to the first 200 on POST /invoke, with nothing importable
but the package's own ./python, as on FC).

    python scripts/benchmark/package.py [--package dist/fc-package] [--runs 3]

run.py reports both in the benchmark table; this script measures any package folder on its own (an
older build, say, for a before-and-after).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.dashscope_emulator import Emulator  # noqa: E402
from scripts.build_fc_package import zipped_size  # noqa: E402
from scripts.fc_process import free_port, function_props, stop  # noqa: E402

KEY = "sk-benchmark-fake-key-0000"


def bare_python(where: Path) -> Path:
    """A Python with nothing installed (no pip, no site-packages of the machine)."""
    venv.create(where, with_pip=False, system_site_packages=False)
    return where / "bin"


def package_env(package: Path, bare_bin: Path, base_url: str, port: int) -> dict[str, str]:
    """s.yaml's environment with /code where the package is, pointed at the emulator."""
    env = {name: str(value).replace("/code", str(package))
           for name, value in function_props()["environmentVariables"].items() if "${" not in str(value)}
    # FC's /code is read-only: no bytecode is written there, so none is written here either (and the
    # package stays as it was built).
    return {**env, "PATH": f"{bare_bin}{os.pathsep}{env['PATH']}", "DASHSCOPE_API_KEY": KEY,
            "DASHSCOPE_HTTP_BASE_URL": base_url, "PORT": str(port), "HOST": "127.0.0.1", "PYTHONDONTWRITEBYTECODE": "1"}


def cold_start_s(package: Path, bare_bin: Path, base_url: str, limit_s: float = 60) -> float:
    """Spawn s.yaml's command in the package, and time until POST /invoke first answers 200."""
    port = free_port()
    output = tempfile.TemporaryFile(mode="w+b")
    spawned = time.monotonic()
    process = subprocess.Popen(function_props()["customRuntimeConfig"]["command"], cwd=package,
                               env=package_env(package, bare_bin, base_url, port), stdout=output, stderr=subprocess.STDOUT)
    process.output_file = output  # type: ignore[attr-defined]
    try:
        while time.monotonic() - spawned < limit_s:
            if process.poll() is not None:
                raise RuntimeError(f"the package exited with {process.returncode}")
            try:
                response = requests.post(f"http://127.0.0.1:{port}/invoke", data=b"hi", timeout=10,
                                         headers={"Content-Type": "application/octet-stream"})
                if response.status_code == 200:
                    return time.monotonic() - spawned
            except requests.ConnectionError:  # not listening yet
                time.sleep(0.01)
        raise RuntimeError("the package did not answer 200 in time")
    except RuntimeError as error:
        raise RuntimeError(f"{error}:\n{stop(process)}") from None
    finally:
        if process.poll() is None:
            stop(process)


def measure(package: Path, base_url: str, runs: int) -> tuple[float, float]:
    """(zipped MB, median cold start in s) of one package folder."""
    with tempfile.TemporaryDirectory() as scratch:
        bare_bin = bare_python(Path(scratch) / "bare")
        starts = [cold_start_s(package, bare_bin, base_url) for _ in range(runs)]
    return zipped_size(package) / 1e6, statistics.median(starts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=ROOT / "dist" / "fc-package")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    emulator = Emulator().start()
    try:
        size_mb, start_s = measure(options.package.resolve(), emulator.base_url, options.runs)
    finally:
        emulator.stop()
    print(f"{options.package}: {size_mb:.1f} MB zipped, cold start {start_s:.2f} s (median of {options.runs})")


if __name__ == "__main__":
    main()
