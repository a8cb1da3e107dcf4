"""Build the Serverless Devs registry package: publish.yaml plus src/ with a templated s.yaml.

The registry's one-click deploy copies src/ and renders its s.yaml with art-template, filling
``{{ name }}`` from publish.yaml's Parameters (a ``type: secret`` parameter becomes
``${secret('name')}``, kept in Serverless Devs' secret store rather than in the file). Our s.yaml
stays directly deployable with `s deploy`, so this script derives the template from it: each
parameter replaces exactly one value, and the build fails if s.yaml no longer has that value.

    python scripts/build_registry_package.py [--out dist/registry]
    s registry publish   # from the output folder, with your registry credentials
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Files the deployed function is made of; s.yaml is written templated, the rest copied as they are.
# scripts/build_fc_package.py is s.yaml's pre-deploy action: it builds the code package there too
# (with the list of modules it compiles).
SOURCES = ["app.py", "core", "web", "handlers", "gunicorn.conf.py", "requirements.txt", ".fcignore", "README.md", "README_zh.md", "docs",
           "scripts/build_fc_package.py", "scripts/fc_bytecode.txt"]
# publish.yaml parameter -> (the line in s.yaml it replaces, the templated line). Double quotes:
# an unanswered secret renders as ${secret('name')...}, which has single quotes of its own.
PLACEHOLDERS = {
    "region": ("  region: cn-hangzhou\n", '  region: "{{ region }}"\n'),
    "functionName": ("  functionName: qwen-fc\n", '  functionName: "{{ functionName }}"\n'),
    "qwenModel": ("  qwenModel: qwen-plus\n", '  qwenModel: "{{ qwenModel }}"\n'),
    "dashscopeApiKey": (
        "        DASHSCOPE_API_KEY: ${env('DASHSCOPE_API_KEY')}\n",
        '        DASHSCOPE_API_KEY: "{{ dashscopeApiKey }}"\n',
    ),
    "invokeToken": (
        "        INVOKE_TOKEN: ${env('INVOKE_TOKEN', '')}\n",
        '        INVOKE_TOKEN: "{{ invokeToken }}"\n',
    ),
    "redisUrl": (
        "        REDIS_URL: ${env('REDIS_URL', '')}\n",
        '        REDIS_URL: "{{ redisUrl }}"\n',
    ),
    "dashscopeRegion": (
        "        DASHSCOPE_REGION: ${env('DASHSCOPE_REGION', '')}\n",
        '        DASHSCOPE_REGION: "{{ dashscopeRegion }}"\n',
    ),
    "dashscopeWorkspaceId": (
        "        DASHSCOPE_WORKSPACE_ID: ${env('DASHSCOPE_WORKSPACE_ID', '')}\n",
        '        DASHSCOPE_WORKSPACE_ID: "{{ dashscopeWorkspaceId }}"\n',
    ),
}


def templated_s_yaml(text: str) -> str:
    for name, (line, templated) in PLACEHOLDERS.items():
        if text.count(line) != 1:
            raise SystemExit(f"s.yaml must contain {line.strip()!r} exactly once for the {name} parameter")
        text = text.replace(line, templated)
    return text


def build(out: Path) -> Path:
    parameters = yaml.safe_load((ROOT / "publish.yaml").read_text())["Parameters"]["properties"]
    if set(parameters) != set(PLACEHOLDERS):
        raise SystemExit(f"publish.yaml parameters {sorted(parameters)} != s.yaml placeholders {sorted(PLACEHOLDERS)}")
    if out.exists():
        shutil.rmtree(out)
    src = out / "src"
    src.mkdir(parents=True)
    shutil.copy2(ROOT / "publish.yaml", out / "publish.yaml")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    (src / "s.yaml").write_text(templated_s_yaml((ROOT / "s.yaml").read_text()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "registry")
    print(build(parser.parse_args().out))


if __name__ == "__main__":
    main()
