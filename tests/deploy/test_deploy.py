"""The deploy descriptors, read as files (no app, no server): s.yaml against the fc3 schema,
gunicorn's settings against s.yaml, publish.yaml against the registry template, and what the built
package holds. The package running on a bare Python is tests/server/test_deploy_package.py."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pathspec
import yaml

from core.config import REGION_BASE_URLS, Config
from scripts import build_fc_package, build_registry_package
from scripts.fc_process import function_props
from tests.conftest import FAKE_KEY, ROOT, s_yaml
from tests.deploy.package import (
    PACKAGE,
    PACKAGE_ZIPPED_LIMIT,
    RUNTIME_PYTHON,
    SCHEMA,
    SDK_EXTRAS,
    built_package,
    gunicorn_settings,
    missing,
    resolve,
    resolved_props,
    validate_fc3,
)


def test_the_deploy_checks_need_nothing_outside_the_repo():
    """A fresh clone runs every deploy check: the schema they validate against is tracked in the repo."""
    assert SCHEMA.resolve().is_relative_to(ROOT)
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", SCHEMA.relative_to(ROOT).as_posix()],
                             cwd=ROOT, capture_output=True, text=True)
    assert tracked.returncode == 0, tracked.stderr
    assert json.loads(SCHEMA.read_text())["definitions"]["IRegion"]["enum"]


def test_s_yaml_is_one_fc3_resource_that_validates_against_the_schema():
    document = s_yaml()
    assert document["edition"] == "3.0.0"
    assert [resource["component"] for resource in document["resources"].values()] == ["fc3"]
    validate_fc3(resolved_props())


S_CLI = ROOT / ".tools" / "node_modules" / ".bin" / "s"


def test_s_preview_renders_a_function_that_validates(tmp_path):
    """The real Serverless Devs CLI renders s.yaml (vars, env) the way `s deploy` would."""
    if not S_CLI.exists():
        missing("the Serverless Devs CLI is not installed: scripts/test.sh installs it into .tools/")
    env = {**os.environ, "HOME": str(tmp_path), "DASHSCOPE_API_KEY": FAKE_KEY, "INVOKE_TOKEN": "preview-token"}
    result = subprocess.run([str(S_CLI), "preview", "-o", "json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = json.loads(result.stdout[result.stdout.index("{"):])
    props = rendered["resources"]["qwen"]["props"]
    # What `s` renders is what this file's own resolution gives (which the schema test validates):
    # this check needs the CLI only, never the schema.
    assert props["environmentVariables"]["DASHSCOPE_API_KEY"] == FAKE_KEY
    assert props["environmentVariables"]["INVOKE_TOKEN"] == "preview-token"
    assert props["region"] == s_yaml()["vars"]["region"]
    assert props == resolved_props() | {"environmentVariables": props["environmentVariables"]}


def test_the_key_comes_from_the_deployers_shell_never_from_the_file():
    props = function_props()
    assert props["environmentVariables"]["DASHSCOPE_API_KEY"] == "${env('DASHSCOPE_API_KEY')}"
    assert not re.search(r"sk-[A-Za-z0-9]{16,}", (ROOT / "s.yaml").read_text())


def test_custom_runtime_starts_gunicorn_on_port_9000():
    props = function_props()
    assert props["runtime"].startswith("custom")
    command = props["customRuntimeConfig"]["command"]
    assert command[:3] == ["python3", "-m", "gunicorn"] and "gunicorn.conf.py" in command
    assert props["customRuntimeConfig"]["port"] == 9000
    settings = gunicorn_settings()
    assert settings["bind"] == "0.0.0.0:9000"
    assert gunicorn_settings({"PORT": "8080"})["bind"] == "0.0.0.0:8080"


def test_every_setting_is_in_s_yaml_and_starts_the_function():
    env = resolved_props()["environmentVariables"]
    documented = {"INVOKE_TOKEN", "ALLOWED_MODELS", "MAX_TOKENS_CAP", "MAX_BODY_BYTES", "UPSTREAM_TIMEOUT_S",
                  "UPSTREAM_RETRIES", "MAX_IN_FLIGHT", "CORS_ORIGINS", "LOG_CONTENT", "QWEN_MODEL", "INVOKE_MODE", "SYSTEM_PROMPT",
                  "TRY_PAGE", "MULTIMODAL_MODELS", "TEXT_MODELS"}
    assert documented <= set(env)
    assert all(isinstance(value, str) for value in env.values())  # FC takes strings only
    config = Config.from_env(env)
    assert config.max_in_flight == function_props()["instanceConcurrency"]
    assert config.invoke_tokens == () and config.upstream_retries == 2


def test_instance_concurrency_fits_the_worker_model():
    props = function_props()
    settings = gunicorn_settings()
    # gthread, extended so that slow clients hold no thread (web/server/worker.py).
    assert settings["worker_class"] == "web.server.worker.RequestReadingWorker"
    from gunicorn.workers.gthread import ThreadWorker

    from web.server.worker import RequestReadingWorker

    assert issubclass(RequestReadingWorker, ThreadWorker)
    # FC's most per instance (and what it sets with session affinity): the benchmark's many-streams row
    # holds 200 long streams on one worker.
    assert props["instanceConcurrency"] == 200
    # Every call FC may send at once has a thread of one worker (s.yaml's cpu: 1), with some to spare
    # for /health and FC's hooks.
    assert settings["workers"] * settings["threads"] >= props["instanceConcurrency"] + 32
    assert settings["worker_connections"] >= settings["threads"]


def test_function_settings_for_long_generations_and_fc_hooks():
    props = function_props()
    assert props["timeout"] >= 300
    assert props["internetAccess"] is True
    assert set(props["instanceLifecycleConfig"]) == {"initializer", "preStop"}
    (trigger,) = props["triggers"]
    assert trigger["triggerType"] == "http"
    assert {"GET", "POST"} <= set(trigger["triggerConfig"]["methods"])


def test_pre_deploy_builds_the_package_that_code_uploads():
    props = function_props()
    (action,) = s_yaml()["resources"]["qwen"]["actions"]["pre-deploy"]
    assert action["run"].split() == ["python3", "scripts/build_fc_package.py", "--out", "dist/fc-package"]
    assert (ROOT / action.get("path", "./") / "dist" / "fc-package").resolve() == PACKAGE
    assert (ROOT / props["code"]).resolve() == PACKAGE
    # Linux x86_64 wheels for the runtime's Python, whatever machine deploys; --no-deps, since
    # requirements.txt pins every package the function runs and none of what the SDK merely declares.
    command = " ".join(build_fc_package.PIP_INSTALL)
    assert "-r requirements.txt" in command and "-t python" in command and "--no-deps" in command
    assert "--only-binary=:all:" in command and "manylinux2014_x86_64" in command
    assert f"--python-version {RUNTIME_PYTHON[props['runtime']]}" in command
    assert props["environmentVariables"]["PYTHONPATH"] == "/code/python"


def test_fcignore_keeps_tests_and_tools_out_of_the_package():
    packaged = {path.as_posix() for path in build_fc_package.packaged_files()}
    assert {"app.py", "gunicorn.conf.py", "requirements.txt", "handlers/invoke/views.py", "handlers/page/try_page.html", "core/upstream/sdk.py", "web/serve.py"} <= packaged
    assert not any(path.startswith(("tests/", "scripts/", ".venv/", ".ci/", "docs/", "events/", ".tools/")) for path in packaged)
    assert not any("__pycache__" in path for path in packaged)
    # ...but the installed requirements keep their bytecode: FC's /code is read-only, so a package
    # uploaded without it would be compiled again at every cold start.
    rules = build_fc_package.IgnoreRules.from_file(ROOT / ".fcignore")
    assert not rules.ignores("python/flask/__pycache__/app.cpython-311.pyc")
    assert not rules.ignores("python/dashscope/aigc/generation.py")
    assert rules.ignores("core/__pycache__/upstream.cpython-311.pyc")
    assert rules.ignores("python/dashscope/acli/main.py")


def test_the_package_is_what_git_tracks_minus_fcignore(tmp_path):
    """A fresh clone with a test run's leftovers in it: none of them reaches the package."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-local", str(ROOT), str(clone)], check=True, capture_output=True)
    for leftover in (".hypothesis/examples/x", ".tools/node_modules/s/index.js", "tests/artifacts/page.png",
                     "core/__pycache__/app.cpython-311.pyc", "notes.txt", "python/stale/module.py", "build/old/app.py"):
        (clone / leftover).parent.mkdir(parents=True, exist_ok=True)
        (clone / leftover).write_text("left over")
    tracked = subprocess.run(["git", "ls-files"], cwd=clone, capture_output=True, text=True, check=True).stdout.split()
    spec = pathspec.GitIgnoreSpec.from_lines((clone / ".fcignore").read_text().splitlines())
    expected = sorted(name for name in tracked if not spec.match_file(name))
    assert [path.as_posix() for path in build_fc_package.packaged_files(clone)] == expected


def test_fcignore_rules_read_as_git_reads_them():
    """The builder reads .fcignore itself (it runs on the deployer's machine, standard library only):
    on every file of the project and of the installed requirements it agrees with gitignore's rules."""
    rules = build_fc_package.IgnoreRules.from_file(ROOT / ".fcignore")
    spec = pathspec.GitIgnoreSpec.from_lines((ROOT / ".fcignore").read_text().splitlines())
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    site_packages = Path(importlib.util.find_spec("dashscope").submodule_search_locations[0]).parent
    names += [f"python/{path.relative_to(site_packages).as_posix()}"
              for path in (site_packages / "dashscope").rglob("*") if path.is_file()]
    names += ["core/__pycache__/x.pyc", "__pycache__/app.pyc", "python/flask/__pycache__/app.pyc", "a/b/README.md", "python/bin/dashscope"]
    disagreements = [name for name in names if rules.ignores(name) != spec.match_file(name)]
    assert disagreements == []


def test_publish_yaml_describes_a_one_click_project():
    publish = yaml.safe_load((ROOT / "publish.yaml").read_text())
    assert publish["Edition"] == "3.0.0" and publish["Type"] == "Project"
    parameters = publish["Parameters"]["properties"]
    assert set(parameters) == {"region", "functionName", "dashscopeApiKey", "invokeToken", "redisUrl", "qwenModel",
                               "dashscopeRegion", "dashscopeWorkspaceId"}
    assert set(parameters["dashscopeRegion"]["enum"]) <= set(REGION_BASE_URLS)
    assert parameters["dashscopeApiKey"]["type"] == "secret" and parameters["invokeToken"]["type"] == "secret"
    assert parameters["redisUrl"]["type"] == "secret" and "redisUrl" not in publish["Parameters"]["required"]
    assert "default" not in parameters["dashscopeApiKey"]
    assert "invokeToken" not in publish["Parameters"]["required"]
    regions = set(json.loads(SCHEMA.read_text())["definitions"]["IRegion"]["enum"])
    assert set(parameters["region"]["enum"]) <= regions


def test_registry_template_renders_to_a_valid_function(tmp_path):
    out = build_registry_package.build(tmp_path / "registry")
    template = (out / "src" / "s.yaml").read_text()
    # The registry renders {{ name }} with the console user's answers (art-template).
    answers = {
        "region": "cn-shanghai",
        "functionName": "my-qwen",
        "qwenModel": "qwen-max",
        "dashscopeApiKey": FAKE_KEY,
        "invokeToken": "registry-token",
        "dashscopeRegion": "ap-southeast-1",
        "dashscopeWorkspaceId": "ws-registry",
        "redisUrl": "redis://:pw@r-test.redis.rds.aliyuncs.com:6379/0",
    }
    assert set(re.findall(r"\{\{\s*(\w+)\s*\}\}", template)) == set(answers)
    rendered = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: answers[m.group(1)], template)
    document = yaml.safe_load(rendered)
    props = resolve(document["resources"]["qwen"]["props"], document["vars"], {})
    validate_fc3(props)
    assert props["region"] == "cn-shanghai" and props["functionName"] == "my-qwen"
    assert props["environmentVariables"]["QWEN_MODEL"] == "qwen-max"
    assert props["environmentVariables"]["DASHSCOPE_API_KEY"] == FAKE_KEY
    assert props["environmentVariables"]["INVOKE_TOKEN"] == "registry-token"
    assert props["environmentVariables"]["DASHSCOPE_REGION"] == "ap-southeast-1"
    assert Config.from_env(props["environmentVariables"]).dashscope_workspace_id == "ws-registry"
    assert props["environmentVariables"]["REDIS_URL"] == answers["redisUrl"]
    assert (out / "src" / "app.py").exists() and not (out / "src" / "tests").exists()
    # The registry's deploy runs the same pre-deploy build, in src/, where there is no git.
    packaged = {path.as_posix() for path in build_fc_package.packaged_files(out / "src")}
    assert packaged == {path.as_posix() for path in build_fc_package.packaged_files()}
    # A secret the user leaves unanswered is rendered by `s init` as its own ${secret('name')...}
    # reference, single quotes included: the template must still be valid YAML.
    unanswered = re.sub(r"\{\{\s*invokeToken\s*\}\}", "${secret('invokeToken')", template)
    unanswered = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: answers[m.group(1)], unanswered)
    assert yaml.safe_load(unanswered)["resources"]["qwen"]["props"]["environmentVariables"]["INVOKE_TOKEN"].startswith("${secret(")


def test_the_package_holds_what_runs_and_nothing_else():
    built_package()
    project = sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*")
                     if path.is_file() and path.relative_to(PACKAGE).parts[0] != "python" and "__pycache__" not in path.parts)
    assert project == [path.as_posix() for path in build_fc_package.packaged_files()]
    # The project's modules with their bytecode, compiled by the build for the runtime's Python, valid
    # whatever the file times after FC unpacks the package (unchecked hash: flags 0b01).
    for module in ("app.py", "core/upstream/sdk.py"):
        cached = PACKAGE / importlib.util.cache_from_source(module)
        assert int.from_bytes(cached.read_bytes()[4:8], "little") == 0b01, module
    # A library module the function loads: its bytecode alone, where its source was (the one place
    # Python imports a .pyc without a source from); one it never loads: its source alone.
    assert (PACKAGE / "python/flask/app.pyc").exists() and not (PACKAGE / "python/flask/app.py").exists()
    assert not list((PACKAGE / "python").rglob("__pycache__"))
    assert (PACKAGE / "python/flask/testing.py").exists() and not (PACKAGE / "python/flask/testing.pyc").exists()
    # The tokenizer's vocabulary, packed (core/upstream/vocabulary.py reads it).
    resources = PACKAGE / "python/dashscope/resources"
    assert sorted(path.name for path in resources.iterdir()) == ["qwen.tokens.xz"]
    installed = {path.name.split("-")[0].lower() for path in (PACKAGE / "python").glob("*.dist-info")}
    pinned = {line.split("==")[0].replace("-", "_").lower() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    assert installed == pinned
    present = [name for name in SDK_EXTRAS if (PACKAGE / "python" / name).exists()]
    assert present == []
    assert build_fc_package.zipped_size(PACKAGE) <= PACKAGE_ZIPPED_LIMIT
