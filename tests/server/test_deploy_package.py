"""The FC deploy package `s deploy` uploads, run as FC runs it: s.yaml's command on a bare Python,
every door called over a socket. (The package's contents are checked in tests/deploy.)"""

from __future__ import annotations

import os
import re
import subprocess
import venv

import pytest
import requests
from openai import OpenAI

from scripts.fc_process import start_like_fc, stop
from tests.conftest import FAKE_KEY, event_bytes, sse_events
from tests.deploy.package import PACKAGE, built_package, resolved_props

@pytest.mark.server
def test_the_deploy_package_runs_on_a_bare_python(tmp_path, emulator):
    """The package `s deploy` uploads, started by s.yaml's command on an interpreter with nothing
    installed: every import must come from ./python, as on FC."""
    built_package()
    bare = tmp_path / "bare-python"
    venv.create(bare, with_pip=False, system_site_packages=False)
    code = str(PACKAGE)
    fc_env = {
        name: value.replace("/code", code)
        for name, value in resolved_props()["environmentVariables"].items()
    }
    fc_env["PATH"] = f"{bare / 'bin'}{os.pathsep}{fc_env['PATH']}"
    fc_env["DASHSCOPE_HTTP_BASE_URL"] = emulator.base_url
    fc_env["TRY_PAGE"] = "1"
    fc_env["PYTHONDONTWRITEBYTECODE"] = "1"  # FC's /code is read-only (and the package stays as built)
    fc_env["PYTHONVERBOSE"] = "1"  # names each module's file as it loads: its bytecode, or its source
    check = subprocess.run([bare / "bin" / "python3", "-c", "import flask"], capture_output=True)
    assert check.returncode != 0, "the bare interpreter must not see the test environment's packages"

    process, url = start_like_fc(fc_env, cwd=PACKAGE)
    try:
        response = requests.post(
            f"{url}/invoke", data=event_bytes("raw-text.txt"), headers={"Content-Type": "application/octet-stream"}, timeout=30
        )
        assert response.status_code == 200, response.text
        assert "如何做西红柿炖牛腩?" in response.json()["output"]["choices"][0]["message"]["content"]
        call_every_door(url)
    finally:
        output = stop(process)
    assert FAKE_KEY not in output
    assert "Traceback" not in output and '"level":"ERROR"' not in output
    # Every module of the package came with its bytecode: none compiled at the cold start or on a door
    # (scripts/fc_bytecode.py lists what ./python loads; the build compiles the project's modules).
    compiled_here = re.findall(rf"^# code object from ({re.escape(code)}/\S+\.py)$", output, re.MULTILINE)
    assert compiled_here == [], f"compiled at run time (run scripts/fc_bytecode.py): {compiled_here}"


def call_every_door(url: str) -> None:
    """Each way in, on the package as it is: what one of them imports late must be in it too."""
    prompt = requests.post(f"{url}/invoke", json={"prompt": "用一句话介绍杭州。"}, timeout=30)
    assert prompt.status_code == 200, prompt.text
    assert "用一句话介绍杭州。" in prompt.json()["output"]["text"]
    streamed = requests.post(f"{url}/invoke?stream=true", data="one two three".encode(), timeout=30,
                             headers={"Content-Type": "application/octet-stream"})
    assert streamed.status_code == 200 and streamed.headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(streamed.text)
    assert len(events) > 1 and all(event == "result" for event, _ in events), streamed.text
    assert events[-1][1]["output"]["choices"][0]["finish_reason"] == "stop"

    oai = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    messages = [{"role": "user", "content": "你好"}]
    completion = oai.chat.completions.create(model="qwen-plus", messages=messages)
    assert "你好" in completion.choices[0].message.content and completion.usage.total_tokens > 0
    chunks = list(oai.chat.completions.create(model="qwen-plus", messages=messages, stream=True))
    assert "你好" in "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert chunks[-1].choices[0].finish_reason == "stop"
    # The multimodal endpoint (MultiModalConversation imports SDK modules Generation does not) and
    # a thinking model streamed upstream and assembled, through both doors.
    vision = requests.post(f"{url}/invoke", timeout=30, json={"model": "qwen3.6-flash", "messages": [
        {"role": "user", "content": [{"image": "https://img.example.com/a.png"}, {"text": "看图"}]}]})
    assert vision.status_code == 200, vision.text
    assert vision.json()["output"]["choices"][0]["message"]["content"][0]["text"].endswith("看图 (shown: 1 image)")
    thought = oai.chat.completions.create(model="qwen3.5-plus", messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://img.example.com/a.png"}}, {"type": "text", "text": "看图"}]}])
    assert thought.choices[0].message.content.endswith("(shown: 1 image)") and thought.choices[0].message.reasoning_content
    page = requests.get(f"{url}/", timeout=30)
    assert page.status_code == 200 and "<title>Try qwen-fc</title>" in page.text
    assert requests.get(f"{url}/openapi.json", timeout=30).json()["paths"]
    native = f"{url}/api/v1"
    tokens = requests.post(f"{native}/tokenizer", json={"model": "qwen-plus", "input": {"prompt": "你好？"}}, timeout=30)
    assert tokens.json()["output"]["token_ids"] == [108386, 11319], tokens.text
    embedded = requests.post(f"{native}/services/embeddings/text-embedding/text-embedding", timeout=30,
                             json={"model": "text-embedding-v4", "input": {"texts": ["hi"]}})
    assert len(embedded.json()["output"]["embeddings"]) == 1, embedded.text
    pictured = requests.post(f"{native}/services/aigc/multimodal-generation/generation", timeout=30, json={
        "model": "qwen3.6-plus", "input": {"messages": [{"role": "user", "content": [{"image": "https://example.com/a.png"}, {"text": "hi"}]}]}})
    assert pictured.status_code == 200 and pictured.json()["output"], pictured.text
