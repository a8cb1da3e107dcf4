"""Rows for the features added since the first benchmark: a thinking stream, a multimodal call, a
native-door call and a call with a caller key (Redis on loopback). Each is the added latency of a
whole call (or whole stream) over the same call made directly, paired round by round.

A feature this build does not have yet (a route that is missing, a setting it does not know) is
probed once and its row says why it was not measured, rather than failing the run.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from typing import Any, Callable

from scripts.benchmark.callers import Callers
from scripts.benchmark.common import GATEWAY_TOKEN, KEY, ROOT, Results, Settings
from scripts.benchmark.servers import start_function
from scripts.fc_process import free_port, stop

# A 1×1 PNG: the smallest image a multimodal model can be asked about, inline.
PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
QUESTION = "What is in this picture?"


def _gateway(callers: Callers, target: str, path: str, body: Any, token: str = GATEWAY_TOKEN) -> Callable[[], None]:
    def call() -> None:
        response = callers.request(target, path, json.dumps(body).encode(), "application/json", token)
        read = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}: {read[:200]!r}")
    return call


def _sdk(api: str, base_url: str, api_key: str = KEY, **kwargs: Any) -> Callable[[], None]:
    def call() -> None:
        import dashscope

        answer = getattr(dashscope, api).call(api_key=api_key, base_address=base_url, **kwargs)
        for chunk in (answer if kwargs.get("stream") else [answer]):
            if chunk.status_code != 200:
                raise RuntimeError(f"{chunk.status_code} {chunk.code}: {chunk.message}")
    return call


def _redis(stack: ExitStack) -> str:
    """A Redis on loopback, for this run only; its URL."""
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(lambda: (server.terminate(), server.wait()))
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("redis-server did not start")


def _caller_key_function(stack: ExitStack, base_url: str, callers: Callers) -> str:
    """A second instance of the function with callers in Redis, and one caller's key."""
    redis_url = _redis(stack)
    added = subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), "add", "benchmark"], env={"REDIS_URL": redis_url,
                           "PATH": ""}, capture_output=True, text=True, timeout=60)
    if added.returncode != 0 or not added.stdout.split():
        raise RuntimeError(f"scripts/callers add failed: {added.stderr.strip()[-200:]}")
    process, url = start_function(base_url, {"REDIS_URL": redis_url, "INVOKE_TOKEN": ""})
    stack.callback(stop, process)
    callers.urls["function-callers"] = url
    refused = callers.request("function-callers", "/invoke", b"hello", "text/plain", "qfc_not-a-key")
    refused.read()
    if refused.status != 401:  # the function did not look the key up: it would measure an open door
        raise RuntimeError(f"callers are not wired in this build (a wrong key got {refused.status}, not 401)")
    return added.stdout.split()[-1]


def features(callers: Callers, base_url: str, stack: ExitStack) -> dict[str, tuple[Callable[[], None], Callable[[], None]] | str]:
    """name -> (through the function, direct), or why it cannot be measured in this build."""
    thinking = {"model": "qwen-plus", "messages": [{"role": "user", "content": "think it over"}], "stream": True,
                "enable_thinking": True}
    image = [{"image": PIXEL}, {"text": QUESTION}]
    found: dict[str, tuple[Callable[[], None], Callable[[], None]] | str] = {
        "a thinking stream (/v1, qwen-plus, enable_thinking)": (
            _gateway(callers, "function", "/v1/chat/completions", thinking),
            _sdk("Generation", base_url, model="qwen-plus", messages=thinking["messages"], stream=True,
                 incremental_output=True, enable_thinking=True, result_format="message")),
        # Thinking off: a plain multimodal call (Qwen3.6 thinks by default, which would time the thinking).
        "a multimodal call (/invoke, qwen3.6-flash, an image)": (
            _gateway(callers, "function", "/invoke", {"model": "qwen3.6-flash", "input": {"messages": [{"role": "user", "content": image}]},
                                                      "parameters": {"enable_thinking": False}}),
            _sdk("MultiModalConversation", base_url, model="qwen3.6-flash", messages=[{"role": "user", "content": image}],
                 enable_thinking=False)),
        "a native-door call (DashScope SDK → /api/v1)": (
            _sdk("Generation", callers.urls["function"] + "/api/v1", api_key=GATEWAY_TOKEN, model="qwen-plus",
                 messages=[{"role": "user", "content": "hello"}], result_format="message"),
            _sdk("Generation", base_url, model="qwen-plus", messages=[{"role": "user", "content": "hello"}], result_format="message")),
    }
    try:
        caller_key = _caller_key_function(stack, base_url, callers)
        found["a call with a caller key (Redis on loopback)"] = (
            _gateway(callers, "function-callers", "/invoke", {"messages": [{"role": "user", "content": "hello"}]}, caller_key),
            _sdk("Generation", base_url, model="qwen-plus", messages=[{"role": "user", "content": "hello"}], result_format="message"))
    except Exception as error:  # noqa: BLE001 - the row says why
        found["a call with a caller key (Redis on loopback)"] = f"not measured: {error}"
    return found


def measure_features(settings: Settings, callers: Callers, base_url: str, results: Results, stack: ExitStack) -> None:
    runnable: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {}
    for name, found in features(callers, base_url, stack).items():
        if isinstance(found, str):
            results.features[name] = found
            continue
        try:
            found[0](), found[1]()  # the probe: the feature exists in this build and answers
            runnable[name] = found
        except Exception as error:  # noqa: BLE001 - the row says why
            results.features[name] = f"not measured: {str(error)[:160]}"
    for round_number in range(settings.feature_rounds):
        for name, (through, direct) in runnable.items():
            times = []
            for make in ((through, direct) if round_number % 2 else (direct, through)):
                started = time.perf_counter()
                make()
                times.append(time.perf_counter() - started)
            added = times[0] - times[1] if round_number % 2 else times[1] - times[0]
            results.features.setdefault(name, []).append(added)  # type: ignore[union-attr]
