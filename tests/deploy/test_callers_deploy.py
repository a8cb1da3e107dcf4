"""s.yaml's commented options for callers are valid FC3 when uncommented: the vpcConfig Tair in a VPC
needs, and the jwt trigger that passes the caller's name on as CALLER_NAME_HEADER."""

from __future__ import annotations

import re

import yaml

from core.config import Config
from tests.conftest import ROOT
from tests.deploy.package import resolve, validate_fc3


def uncommented(text: str, first: str, last: str, replaces: str | None = None) -> str:
    """The s.yaml text with the commented block from `first` to `last` made live (in place of `replaces`)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"# {first}")
    end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("#") and lines[i].strip()[1:].strip() == last)
    indent = lines[start].index("#")
    block = [line[:indent] + line[indent + 2:] for line in lines[start:end + 1]]
    lines[start:end + 1] = block
    if replaces is not None:
        lines = [line for line in lines if line.strip() != replaces]
    return "".join(lines)


def props_of(text: str) -> dict:
    document = yaml.safe_load(text)
    return resolve(document["resources"]["qwen"]["props"], document["vars"], {"DASHSCOPE_API_KEY": "sk-x"})


def test_the_commented_vpc_config_and_jwt_trigger_are_valid_fc3():
    text = (ROOT / "s.yaml").read_text()
    text = uncommented(text, "vpcConfig:", "securityGroupId: sg-xxxxxxxxxxxxxxxx")
    text = uncommented(text, "authType: jwt", "- /health", replaces="authType: anonymous")
    text = re.sub(r"CALLER_NAME_HEADER: ''", "CALLER_NAME_HEADER: x-caller-name", text)
    text = re.sub(r"REDIS_URL: \$\{env\('REDIS_URL', ''\)\}", "REDIS_URL: redis://r-x.redis.rds.aliyuncs.com:6379/0", text)
    props = props_of(text)
    validate_fc3(props)
    assert props["vpcConfig"]["vSwitchIds"] and props["internetAccess"] is True  # DashScope stays reachable
    trigger = props["triggers"][0]["triggerConfig"]
    assert trigger["authType"] == "jwt"
    passed = trigger["authConfig"]["claimPassBy"][0]
    config = Config.from_env(props["environmentVariables"])
    assert passed["mappingParameterPosition"] == "header"
    assert passed["mappingParameterName"] == config.caller_name_header
    assert config.redis_url and config.callers == ""


def test_caller_settings_are_optional_in_s_yaml():
    config = Config.from_env(props_of((ROOT / "s.yaml").read_text())["environmentVariables"])
    assert config.redis_url is None and config.callers == "" and config.caller_name_header is None
    assert config.callers_fail_open is False
