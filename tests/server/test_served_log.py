"""What the function prints when gunicorn serves it, read from the process's own output: no secret
in it (gunicorn's own lines included), logging that survives FC's hooks, and none of it leaking into
pytest's output. (The in-process secrets check is tests/app/test_observability.py.)"""

from __future__ import annotations

import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from scripts.fc_process import start_like_fc, stop
from tests.conftest import FAKE_KEY, ROOT, function_env

pytestmark = pytest.mark.server


def test_the_served_log_keeps_every_secret(emulator):
    """Everything the running function prints, for calls carrying FC's credential headers, an
    inbound token and private content, on both doors, streams and failures included."""
    token = "inbound-token-for-the-log-test"
    process, url = start_like_fc(function_env(emulator, INVOKE_TOKEN=token))
    secrets = {
        "x-fc-access-key-id": "LTAI-access-key-id-for-the-log-test",
        "x-fc-access-key-secret": "access-key-secret-for-the-log-test",
        "x-fc-security-token": "security-token-for-the-log-test",
    }
    content = "private-content-for-the-log-test"
    headers = {**secrets, "Authorization": f"Bearer {token}"}
    try:
        assert requests.post(f"{url}/invoke", data=content, headers=headers, timeout=30).status_code == 200
        requests.post(f"{url}/invoke?stream=true", data=content, headers=headers, timeout=30).close()
        requests.post(f"{url}/invoke", data=f"{content} [[emulate status=500]]", headers=headers, timeout=30)
        requests.post(f"{url}/invoke", data=content, headers={**secrets, "Authorization": f"Bearer {token}-wrong"}, timeout=30)
        chat = {"model": "qwen-flash", "messages": [{"role": "user", "content": content}]}
        assert requests.post(f"{url}/v1/chat/completions", json=chat, headers=headers, timeout=30).status_code == 200
        requests.post(f"{url}/v1/chat/completions", json={**chat, "stream": True}, headers=headers, timeout=30).close()
        requests.get(f"{url}/pre-stop", headers=headers, timeout=30)
    finally:
        output = stop(process)

    assert output.count('"message":"request"') >= 7  # the lines were written, and read here
    for secret in [token, FAKE_KEY, content, *secrets.values()]:
        assert secret not in output


def test_concurrent_pre_stop_calls_never_stop_the_logging(emulator):
    """Anyone can reach GET /pre-stop: 100 at once (FC's mark included) must leave logging working."""
    process, url = start_like_fc(function_env(emulator))
    marker = uuid.uuid4().hex
    try:
        with ThreadPoolExecutor(max_workers=100) as pool:
            statuses = list(
                pool.map(
                    lambda _: requests.get(f"{url}/pre-stop", headers={"x-fc-control-path": "/pre-stop"}, timeout=30).status_code,
                    range(100),
                )
            )
        assert requests.post(f"{url}/invoke", data="still logged?", headers={"x-fc-request-id": marker}, timeout=30).status_code == 200
    finally:
        output = stop(process)

    assert all(status == 200 for status in statuses), statuses
    assert f'"request_id":"{marker}"' in output


def test_the_test_run_keeps_the_app_log_lines_out_of_pytests_output():
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/app/test_system.py", "tests/app/test_streaming.py", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stdout[-2000:]
    assert '"logger":"qwenfc"' not in finished.stdout + finished.stderr
