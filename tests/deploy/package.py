"""What the deploy checks share: the fc3 schema, s.yaml resolved as `s` resolves it, and the built
FC package (scripts/test.sh builds it). Not a test module: imported by tests/deploy and tests/server."""

from __future__ import annotations

import json
import os
import re

import jsonschema

from scripts import build_fc_package
from scripts.fc_process import function_props
from tests.conftest import FAKE_KEY, ROOT, s_yaml
from tests.tools import missing

# The props schema of the Serverless Devs `fc3` component (what s.yaml may say under a `component: fc3`
# resource), carried in the repo so these checks run on a fresh clone with nothing beside it. It came
# from the project's reference material (shared/reference/fc3-schema.json, itself the schema the fc3
# component publishes); tests/fixtures/README.md says how to refresh it.
SCHEMA = ROOT / "tests" / "fixtures" / "fc3-schema.json"
PACKAGE = build_fc_package.DEFAULT_OUT
# A bound on the zipped package FC downloads and unpacks at every cold start (it was 33 MB, then 14.9;
# 11.9 MB since it ships no aiohttp and bytecode only for what loads; 9.7 MB since the libraries it loads ship as
# bytecode alone and the vocabulary packed: docs/performance.md).
PACKAGE_ZIPPED_LIMIT = 10_000_000
# What the SDK declares but the function never runs: none of it may be in the package.
SDK_EXTRAS = ("fastapi", "uvicorn", "starlette", "opentelemetry", "rich", "pygments", "typer", "cryptography",
              "httpx", "websocket", "yaml", "anyio", "cffi")
RUNTIME_PYTHON = {"custom.debian10": "3.10", "custom.debian11": "3.12", "custom.debian12": "3.11"}


def resolve(value, variables: dict, env: dict):
    """Resolve Serverless Devs' ${vars.x} and ${env('X')} the way `s` does, for plain strings."""
    if isinstance(value, dict):
        return {key: resolve(item, variables, env) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, variables, env) for item in value]
    if isinstance(value, str):
        value = re.sub(r"\$\{vars\.(\w+)\}", lambda m: str(variables[m.group(1)]), value)
        return re.sub(
            r"\$\{env\('(\w+)'(?:,\s*'([^']*)')?\)\}",
            lambda m: env.get(m.group(1), m.group(2)) if m.group(2) is not None else env[m.group(1)],
            value,
        )
    return value


def resolved_props() -> dict:
    document = s_yaml()
    return resolve(function_props(), document["vars"], {"DASHSCOPE_API_KEY": FAKE_KEY})


def validate_fc3(props: dict) -> None:
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(props)


def gunicorn_settings(environ: dict[str, str] | None = None) -> dict:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ or {})
    try:
        namespace: dict = {}
        exec((ROOT / "gunicorn.conf.py").read_text(), namespace)
        return namespace
    finally:
        os.environ.clear()
        os.environ.update(saved)


def built_package() -> None:
    if not (PACKAGE / "python" / ".installed-from").exists():
        missing("no deploy package: scripts/test.sh builds it with scripts/build_fc_package.py")
