"""Build the code package FC receives into dist/fc-package: s.yaml's pre-deploy runs this, and its
`code:` points there, so what `s deploy` uploads is exactly what this builds.

The package holds what runs and nothing else:

- the project's files that git tracks (`git ls-files`; in a tree without git, such as the registry
  package's src/, every file in it), minus what .fcignore says: never a test leftover (.hypothesis/,
  .tools/), a build or an editor's file;
- ./python: requirements.txt installed with --no-deps (it pins every package the function runs) as
  Linux x86_64 wheels for the FC runtime's Python 3.11, whatever machine deploys; then what .fcignore
  says about ./python is removed as well;
- bytecode for the project's modules (in __pycache__, beside their source) and for the modules of
  ./python the function loads (scripts/fc_bytecode.txt: module.pyc in place of module.py, the
  source left out), compiled as unchecked-hash .pyc files: FC's /code is read-only, so a module
  without valid bytecode is compiled again at every cold start, and a timestamp-checked .pyc is only
  valid while the file times survive the upload's zip and FC's unpacking. Only a Python 3.11 (the
  runtime's) can compile them: elsewhere the package ships without, and says so;
- the tokenizer's vocabulary packed (pack_vocabulary): together with the line above, what keeps the
  package under 10 MB zipped.

Standard library only, since it runs on the deployer's machine. tests/deploy/test_deploy.py and tests/server/test_deploy_package.py starts the
result with s.yaml's command on an interpreter that has nothing installed, as the FC runtime has
nothing, and calls every door.

    python3 scripts/build_fc_package.py [--out dist/fc-package]
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import lzma
import os
import py_compile
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "dist" / "fc-package"
# Never part of the package, whatever .fcignore says: git's own files, build outputs, and a ./python
# the project tree may hold from an older way of building.
ALWAYS_OUT = (".git/", "dist/", "build/", "python/")
# requirements.txt as Linux x86_64 wheels for custom.debian12's Python 3.11 (see s.yaml's runtime),
# without pip's bytecode (compiled by the interpreter that runs pip, for its own version, checked by
# timestamp, and for every module): compile_bytecode() below makes the package's.
RUNTIME_PYTHON = (3, 11)
PIP_INSTALL = [
    "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--upgrade", "--no-compile",
    "-r", "requirements.txt", "-t", "python",
    "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64",
    "--python-version", "3.11", "--implementation", "cp", "--only-binary=:all:",
]


class IgnoreRules:
    """The .fcignore rules, with gitignore's meaning for the forms the file uses: `name` (at any
    depth), `dir/` (a directory at any depth), a leading `/` (from the project's root only), `*`
    and `?` within one path segment, and `**` across segments. A rule it cannot read exactly
    (negation with `!`) is refused rather than guessed."""

    def __init__(self, lines: list[str]) -> None:
        self._rules: list[tuple[str, bool, bool]] = []  # (pattern, directories only, anchored)
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("!"):
                raise SystemExit(f".fcignore: negated rules ({line}) are not supported")
            directory_only = line.endswith("/")
            pattern = line.strip("/")
            anchored = line.startswith("/") or "/" in pattern
            self._rules.append((pattern, directory_only, anchored))

    @classmethod
    def from_file(cls, path: Path) -> IgnoreRules:
        return cls(path.read_text().splitlines()) if path.exists() else cls([])

    def ignores(self, relative: str) -> bool:
        """Whether a file (a path relative to the project root, with /) is left out."""
        parts = tuple(PurePosixPath(relative).parts)
        for pattern, directory_only, anchored in self._rules:
            # A rule for a directory leaves out everything beneath it; a file rule also matches a
            # directory of that name on the way down (gitignore's behaviour for both).
            prefixes = [parts[:end] for end in range(1, len(parts))] + ([] if directory_only else [parts])
            if anchored:
                if any(_glob_match(prefix, tuple(pattern.split("/"))) for prefix in prefixes):
                    return True
            elif any(fnmatch.fnmatchcase(prefix[-1], pattern) for prefix in prefixes):
                return True
        return False


def _glob_match(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Segment-wise glob: `**` matches any number of segments, anything else one segment."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob_match(parts[skip:], pattern[1:]) for skip in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _glob_match(parts[1:], pattern[1:])


def _project_files(root: Path) -> list[str]:
    """What git tracks, or every file where there is no git (relative paths, with /)."""
    if (root / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
        untracked = subprocess.run(["git", "ls-files", "-z", "--others", "--exclude-standard"], cwd=root,
                                   capture_output=True, check=True).stdout.decode().split("\0")
        rules = IgnoreRules.from_file(root / ".fcignore")
        left_out = [name for name in untracked if name and not rules.ignores(name)]
        if left_out:  # a new module not yet added to git would be missing on FC: say so
            print(f"build_fc_package: not packaged, as git does not track them: {', '.join(left_out)}", file=sys.stderr)
        return sorted(name for name in listed.decode().split("\0") if name and (root / name).is_file())
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def packaged_files(root: Path = ROOT) -> list[Path]:
    """The project's files the package holds (./python, installed by the build, aside)."""
    rules = IgnoreRules.from_file(root / ".fcignore")
    always_out = IgnoreRules(list(ALWAYS_OUT))
    return [Path(name) for name in _project_files(root) if not always_out.ignores(name) and not rules.ignores(name)]


def _dependencies_stamp(root: Path) -> str:
    """What ./python depends on: the requirements, the command that installs them, .fcignore (whose
    rules delete from it: a rule taken out must bring its files back), the bytecode list (whose
    modules lose their source: one taken off the list must get it back) and this script (which
    packs the vocabulary and compiles: a change to either must start from what pip installs)."""
    fcignore = root / ".fcignore"
    material = (root / "requirements.txt").read_text() + "\0".join(PIP_INSTALL) + (fcignore.read_text() if fcignore.exists() else "")
    material += BYTECODE_LIST.read_text() + Path(__file__).read_text()
    return hashlib.sha256(material.encode()).hexdigest()


def install_requirements(root: Path, out: Path) -> None:
    """requirements.txt into out/python, reused while neither it nor the command changed."""
    stamp_file = out / "python" / ".installed-from"
    if stamp_file.exists() and stamp_file.read_text() == _dependencies_stamp(root):
        return
    shutil.rmtree(out / "python", ignore_errors=True)
    shutil.copy2(root / "requirements.txt", out / "requirements.txt")
    subprocess.run([sys.executable, *PIP_INSTALL], cwd=out, check=True)
    stamp_file.write_text(_dependencies_stamp(root))



def zipped_size(folder: Path) -> int:
    """The package zipped with deflate, as `s deploy` uploads it (what FC downloads at a cold start)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.tell()

# The files of ./python the function loads (at start, on any door, with or without REDIS_URL), written
# by scripts/fc_bytecode.py; tests/server/test_deploy_package.py fails when a door loads one that is
# not listed. The rest (pydantic.v1, gunicorn's ASGI workers, ...) ships as source only: about 1.5 MB.
BYTECODE_LIST = Path(__file__).resolve().parent / "fc_bytecode.txt"


def bytecode_sources(out: Path) -> list[Path]:
    """The .py files of the package that get bytecode: the project's, and ./python's listed ones."""
    listed = [line.strip() for line in BYTECODE_LIST.read_text().splitlines() if line.strip() and not line.startswith("#")]
    project = [path for path in out.rglob("*.py") if path.relative_to(out).parts[0] != "python"]
    return sorted(project) + [out / "python" / name for name in listed if (out / "python" / name).is_file()]


def compile_bytecode(out: Path) -> None:
    """Unchecked-hash bytecode for bytecode_sources(out), and no other: a .pyc is used as it is,
    whatever the file times (FC's unpacking may not keep them), so it must come from this build."""
    for cache in sorted(out.rglob("__pycache__")):
        shutil.rmtree(cache)
    if sys.version_info[:2] != RUNTIME_PYTHON:
        print(f"build_fc_package: no bytecode in the package: this is Python {sys.version_info[0]}.{sys.version_info[1]}, the "
              f"runtime's is {'.'.join(map(str, RUNTIME_PYTHON))} (every cold start compiles the modules: about 1.5 s more)",
              file=sys.stderr)
        return
    python = out / "python"
    for source in bytecode_sources(out):
        if python in source.parents:
            # An installed library the function loads ships as its bytecode alone, where the source was
            # (module.pyc: Python imports a .pyc there without a source, never one in __pycache__):
            # source and bytecode both cost about 1.75 MB zipped. What it costs: a library's frames in
            # a logged traceback show no source line (the project's own frames still do).
            py_compile.compile(str(source), cfile=str(source.with_suffix(".pyc")), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            source.unlink()
        else:
            py_compile.compile(str(source), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


# The tokenizer's vocabulary (2.6 MB, 1.1 MB zipped), shipped packed (0.6 MB): core/upstream/vocabulary.py
# reads it on the tokenizer's first use.
VOCABULARY = Path("dashscope/resources/qwen.tiktoken")
PACKED_VOCABULARY = VOCABULARY.with_name("qwen.tokens.xz")


def pack_vocabulary(vocabulary: Path) -> None:
    """qwen.tiktoken (a line per token: the token in base64, its rank) as xz of the tokens alone, a
    line each in rank order (the ranks are 0, 1, 2, ...: checked here, so they need no room)."""
    if not vocabulary.exists():
        return
    tokens = []
    for rank, line in enumerate(line for line in vocabulary.read_bytes().splitlines() if line):
        token, written_rank = line.split()
        if int(written_rank) != rank:
            raise SystemExit(f"{vocabulary}: line {rank + 1} has rank {written_rank.decode()}: the packed vocabulary needs 0, 1, 2, ...")
        tokens.append(token)
    vocabulary.with_name(PACKED_VOCABULARY.name).write_bytes(lzma.compress(b"\n".join(tokens), preset=9 | lzma.PRESET_EXTREME))
    vocabulary.unlink()


def build(out: Path = DEFAULT_OUT, root: Path = ROOT) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    # The project's files are copied afresh every time; ./python only when the requirements changed.
    for child in out.iterdir():
        if child.name != "python":
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    install_requirements(root, out)
    for relative in packaged_files(root):
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, out / relative)
    rules = IgnoreRules.from_file(root / ".fcignore")
    for path in sorted((out / "python").rglob("*"), reverse=True):
        relative = path.relative_to(out).as_posix()
        if path.is_file() and relative != "python/.installed-from" and rules.ignores(relative):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    compile_bytecode(out)
    pack_vocabulary(out / "python" / VOCABULARY)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    out = parser.parse_args().out
    print(build(out if out.is_absolute() else Path(os.getcwd()) / out))


if __name__ == "__main__":
    main()
