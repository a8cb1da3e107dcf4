"""Build the code package FC receives, exactly as `s deploy` would, into build/fc-package.

It copies what .fcignore lets through, then runs s.yaml's pre-deploy actions there (pip installing
requirements.txt into ./python as Linux x86_64 wheels for the runtime's Python). The test
tests/test_deploy.py::test_the_deploy_package_runs_on_a_bare_python then starts that package with
s.yaml's command on an interpreter that has nothing installed, as the FC runtime has nothing.

    python scripts/build_fc_package.py [--out build/fc-package]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pathspec
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "build" / "fc-package"


def fcignore(root: Path = ROOT) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines((root / ".fcignore").read_text().splitlines())


def packaged_files(root: Path = ROOT) -> list[Path]:
    """The project's files `s deploy` uploads (./python, made by the pre-deploy action, aside)."""
    ignore = fcignore(root)
    always_out = pathspec.GitIgnoreSpec.from_lines([".git/", "build/", "dist/", "python/"])
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not always_out.match_file(relative) and not ignore.match_file(relative):
            files.append(path.relative_to(root))
    return files


def pre_deploy_actions(root: Path = ROOT) -> list[dict]:
    resource = yaml.safe_load((root / "s.yaml").read_text())["resources"]["qwen"]
    return resource.get("actions", {}).get("pre-deploy", [])


def _dependencies_stamp() -> str:
    """What ./python depends on: the requirements and the commands that install them."""
    material = (ROOT / "requirements.txt").read_text() + json.dumps(pre_deploy_actions(), sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


def build(out: Path = DEFAULT_OUT) -> Path:
    stamp_file = out / "python" / ".installed-from"
    reuse = stamp_file.exists() and stamp_file.read_text() == _dependencies_stamp()
    # The code is always copied afresh; the installed requirements only when they changed.
    if out.exists():
        for child in out.iterdir():
            if not (reuse and child.name == "python"):
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for relative in packaged_files():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, out / relative)
    if not reuse:
        for action in pre_deploy_actions():
            subprocess.run(action["run"], shell=True, check=True, cwd=out / action.get("path", "./"))
        stamp_file.write_text(_dependencies_stamp())
    # What .fcignore keeps out of ./python is not uploaded either.
    ignore = fcignore()
    for path in sorted((out / "python").rglob("*"), reverse=True):
        if path.is_file() and ignore.match_file(path.relative_to(out).as_posix()):
            path.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    print(build(parser.parse_args().out))


if __name__ == "__main__":
    main()
