"""The function under gunicorn facing what the internet and FC do to it: clients that vanish
mid-stream, oversized bodies, SIGTERM with calls in flight, and a fuzzer."""

from __future__ import annotations

import json
import os
import signal
import socket
import string
import subprocess
import threading
import time
import uuid

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts.fc_process import free_port, function_props, start_like_fc, stop
from tests.conftest import ROOT, function_env, reached
from tests.waiting import wait_until

pytestmark = pytest.mark.server


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def raw_request(url: str, head: str, body: bytes = b"") -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=10)
    connection.sendall(head.encode() + body)
    return connection


def read_until(connection: socket.socket, marker: bytes) -> bytes:
    received = b""
    while marker not in received:
        chunk = connection.recv(4096)
        assert chunk, f"connection closed before {marker!r}: {received[:300]!r}"
        received += chunk
    return received


def in_flight(emulator, marker: str) -> int:
    """Calls carrying `marker` that have reached the emulator (and so are in flight in the function)."""
    return sum(marker in json.dumps(record["body"]) for record in emulator.history)


def test_a_client_that_disconnects_mid_stream_stops_the_upstream_read(fc_instance, emulator):
    (worker,) = fc_instance.worker_pids()
    # Settle the pool and any lazy imports, then take the baseline once the warm-up stream has ended.
    warm_up = uuid.uuid4().hex
    requests.post(f"{fc_instance.url}/invoke?stream=true", data=f"warm up {warm_up}", timeout=30).close()
    wait_until(lambda: reached(emulator, warm_up).get("ended"), 10, "the warm-up stream to end")
    baseline = open_fds(worker)

    marker = uuid.uuid4().hex
    # About 16 events 0.15 s apart: read to its end, a stream would finish in about 2.5 s.
    text = f"{marker} " + " ".join(["word"] * 30) + " [[emulate chunk_delay=0.15]]"
    body = text.encode()
    head = (
        "POST /invoke?stream=true HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    clients = []
    for _ in range(10):
        connection = raw_request(fc_instance.url, head, body)
        read_until(connection, b"event:result")  # the stream has started
        clients.append(connection)
    for connection in clients:
        connection.close()

    streams = [r for r in emulator.history if marker in json.dumps(r["body"])]
    assert len(streams) == 10
    # Each stream ends when the emulator notices its reader gone (or, read to its end, in about 2.5 s).
    wait_until(lambda: all(record.get("ended") for record in streams), 10, "every upstream stream to end")
    for record in streams:
        assert record["events_planned"] > 10
        assert not record["completed"], "the upstream stream was read to its end for nobody"
        assert record["events_sent"] <= 3
    wait_until(lambda: open_fds(worker) <= baseline + 2, 10, "the worker to close what the clients left")
    assert requests.get(f"{fc_instance.url}/health", timeout=10).status_code == 200


def test_an_oversized_body_is_refused_before_it_is_read(server):
    # Announce 64 MiB, send a few bytes: the answer must come without the server waiting for the rest.
    head = "POST /invoke HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: 67108864\r\n\r\n"
    connection = raw_request(server, head, b"only the beginning")
    reply = read_until(connection, b"}").decode()
    connection.close()
    assert reply.startswith("HTTP/1.1 413")
    assert "application/json" in reply and '"PayloadTooLarge"' in reply


def test_sigterm_lets_calls_in_flight_finish(emulator):
    process, url = start_like_fc(function_env(emulator))
    results: dict[str, object] = {}

    marker = uuid.uuid4().hex

    def slow_call() -> None:
        response = requests.post(f"{url}/invoke", data=f"finish me {marker} [[emulate delay=2]]", timeout=30)
        results["status"] = response.status_code
        results["body"] = response.json()

    def slow_stream() -> None:
        response = requests.post(f"{url}/invoke?stream=true", data=f"a b c d e f {marker} [[emulate chunk_delay=0.4]]",
                                 timeout=30)
        results["stream"] = response.text

    callers = [threading.Thread(target=slow_call), threading.Thread(target=slow_stream)]
    for caller in callers:
        caller.start()
    wait_until(lambda: in_flight(emulator, marker) == 2, 10, "both calls to be in flight")
    process.send_signal(signal.SIGTERM)  # how FC stops an instance
    for caller in callers:
        caller.join(timeout=30)
    output = stop(process)

    assert results["status"] == 200 and "finish me" in results["body"]["output"]["choices"][0]["message"]["content"]
    assert '"finish_reason":"stop"' in str(results["stream"]) and "event:error" not in str(results["stream"])
    assert process.returncode == 0, output


ROUTES = ["/invoke", "/invoke/messages", "/invoke/prompt", "/v1/chat/completions", "/v1/models", "/health", "/initialize", "/pre-stop", "/", "/v1/nope", "/invoke/x"]
CONTENT_TYPES = ["application/json", "application/octet-stream", "text/plain", "text/plain; charset=gbk", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-8", "", "garbage/type"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
known_keys = st.sampled_from(["messages", "prompt", "model", "input", "parameters", "stream", "temperature", "top_p", "max_tokens", "tools", "stop", "seed", "result_format", "n", "stream_options", "role", "content"])
structured = st.dictionaries(known_keys | st.text(max_size=8), json_values, max_size=6)
messages = st.lists(st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant", "tool", "bot"]), "content": json_values}), max_size=3)
bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    structured.map(lambda d: json.dumps(d).encode()),
    st.builds(lambda m, extra: json.dumps({"messages": m, **extra}).encode(), messages, structured),
)
header_values = st.text(alphabet=string.printable.strip() + " ", max_size=40)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Accept": st.sampled_from(["text/event-stream", "application/json", "*/*", "text/html"]) | header_values,
        "X-DashScope-SSE": st.sampled_from(["enable", "disable"]) | header_values,
        "Authorization": header_values,
        "x-fc-request-id": header_values,
        "Origin": header_values,
    },
)


def assert_well_answered(response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    kind = response.headers.get("Content-Type", "")
    if response.status_code == 204:
        assert not response.content
    elif kind.startswith("text/event-stream"):
        assert response.status_code == 200 and response.text.startswith(("id:", "data:"))
    else:
        assert kind.startswith("application/json"), kind
        response.json()


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(ROUTES),
    method=st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=bodies,
    extra_headers=headers,
    stream=st.sampled_from([None, "true", "false", "1", "maybe"]),
)
def test_fuzz_no_5xx_always_json_server_alive(server, path, method, content_type, body, extra_headers, stream):
    # "[[emulate" would ask the emulator for a failure on purpose; the fuzzer must not stumble on it.
    body = body.replace(b"[[emulate", b"[emulate")
    response = requests.request(
        method,
        f"{server}{path}",
        params={"stream": stream} if stream is not None else None,
        data=body,
        headers={"Content-Type": content_type, **extra_headers} if content_type else extra_headers,
        timeout=30,
    )
    assert_well_answered(response)


def test_the_server_is_alive_after_the_fuzzing(fc_instance):
    assert requests.get(f"{fc_instance.url}/health", timeout=10).status_code == 200
    assert fc_instance.process.poll() is None


def test_sigterm_ends_streams_that_cannot_finish_with_an_error_event_and_writes_every_line(emulator):
    # A 6 s grace instead of 30 s (gunicorn reads GUNICORN_CMD_ARGS): streams still running 1.5 s
    # before it runs out are ended by the function itself.
    process, url = start_like_fc(function_env(emulator, GUNICORN_CMD_ARGS="--graceful-timeout 6"))
    marker = uuid.uuid4().hex
    long_text = f"{marker} " + " ".join(["word"] * 40) + " [[emulate chunk_delay=0.5]]"  # about 20 s of events
    results: dict[str, object] = {}

    def call(name: str, path: str, **kwargs: object) -> None:
        try:
            results[name] = requests.post(f"{url}{path}", timeout=30, **kwargs).text
        except requests.RequestException as error:
            results[name] = error

    callers = [
        threading.Thread(target=call, args=("invoke", "/invoke?stream=true"), kwargs={"data": long_text, "headers": {"x-fc-request-id": "long-invoke"}}),
        threading.Thread(
            target=call,
            args=("openai", "/v1/chat/completions"),
            kwargs={"json": {"model": "qwen-flash", "stream": True, "messages": [{"role": "user", "content": long_text}]}, "headers": {"x-fc-request-id": "long-openai"}},
        ),
        threading.Thread(target=call, args=("short", "/invoke?stream=true"), kwargs={"data": f"a b c d {marker} [[emulate chunk_delay=0.3]]", "headers": {"x-fc-request-id": "short-stream"}}),
        threading.Thread(target=call, args=("silent", "/invoke"), kwargs={"data": f"never answered {marker} [[emulate delay=15]]", "headers": {"x-fc-request-id": "silent-call"}}),
    ]
    for caller in callers:
        caller.start()
    wait_until(lambda: in_flight(emulator, marker) == 4, 10, "all four calls to be in flight")
    stopped_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    for caller in callers[:3]:
        caller.join(timeout=30)
    ended_within = time.monotonic() - stopped_at
    output = stop(process)
    callers[3].join(timeout=30)

    invoke = str(results["invoke"])
    assert "event:error" in invoke and '"code":"InstanceStopping"' in invoke and ":HTTP_STATUS/503" in invoke
    assert '"finish_reason":"stop"' not in invoke
    openai = str(results["openai"])
    assert '"code":"InstanceStopping"' in openai and "[DONE]" not in openai
    assert '"finish_reason":"stop"' in str(results["short"]) and "event:error" not in str(results["short"])
    assert ended_within < 6, "the streams ran until gunicorn's kill"

    lines = {line["request_id"]: line for line in map(json.loads, (l for l in output.splitlines() if l.startswith('{"'))) if line.get("message") == "request"}
    assert lines["long-invoke"]["error_code"] == "InstanceStopping" and lines["long-invoke"]["events_sent"] > 3
    assert lines["long-openai"]["error_code"] == "InstanceStopping"
    assert lines["short-stream"]["status"] == 200 and lines["short-stream"]["finish_reason"] == "stop"
    # The call the upstream never answered ended at the stop deadline too: a 503 answer, and its own line.
    assert lines["silent-call"]["status"] == 503 and lines["silent-call"]["error_code"] == "InstanceStopping"
    assert '"code":"InstanceStopping"' in str(results["silent"])


@pytest.mark.parametrize("setting, value, says", [
    ("INVOKE_MODE", "chat", "INVOKE_MODE must be one of messages, prompt, got 'chat'"),
    ("LOG_LEVEL", "verbose", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'verbose'"),
    ("THREADS", "abc", "THREADS must be a whole number"),
    # (WEB_CONCURRENCY=x never gets here: gunicorn reads it itself, with int(), before this file runs.)
    ("WEB_CONCURRENCY", "0", "WEB_CONCURRENCY must be a whole number from 1"),
    ("REQUEST_READ_TIMEOUT_S", "abc", "REQUEST_READ_TIMEOUT_S must be a number of seconds"),
    ("PORT", "abc", "PORT must be a whole number"),
])
def test_a_bad_setting_is_one_clear_line_and_a_failed_start(emulator, tmp_path, setting, value, says):
    command = function_props()["customRuntimeConfig"]["command"]
    env = {**function_env(emulator), "PORT": str(free_port()), "HOST": "127.0.0.1", setting: value}
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    printed = (finished.stdout + finished.stderr).strip().splitlines()
    assert finished.returncode == 2
    assert len(printed) == 1, printed
    assert printed[0].startswith("qwen-fc cannot start: ") and says in printed[0], printed[0]
