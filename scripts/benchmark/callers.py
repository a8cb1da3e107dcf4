"""One way to make each kind of call to each target, on keep-alive connections per thread.

Gateways (the function's doors, the floor, the official sample, the peer) are called with
http.client, the leanest client there is, so that what is measured is the server rather than the
client library. Each gateway's baseline is a direct call to its own upstream with the client that
gateway itself uses inside: the DashScope SDK to the native endpoint for the function ("direct"),
the OpenAI client to compatible mode for LiteLLM ("direct-compat"), so that a client's own cost
falls on both sides of the difference alike.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from scripts.benchmark.common import GATEWAY_TOKEN, KEY

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
# target -> (path of a call, path of a stream, body kind)
ROUTES: dict[str, tuple[str, str, str]] = {
    "function": ("/invoke", "/invoke?stream=true", "text"),
    "function-v1": ("/v1/chat/completions", "/v1/chat/completions", "openai"),
    "function-wide": ("/v1/chat/completions", "/v1/chat/completions", "openai"),  # a worker per core
    "function-responses": ("/v1/responses", "/v1/responses", "responses"),
    "function-anthropic": ("/v1/messages", "/v1/messages", "anthropic"),
    "floor": ("/invoke", "/stream", "text"),
    "official": ("/invoke", "/invoke", "text"),
    "relay": ("/relay", "/relay-stream", "text"),  # the floor app's SDK relay floor (floor_app.py)
    "litellm": ("/chat/completions", "/chat/completions", "openai"),
    "portkey": ("/v1/chat/completions", "/v1/chat/completions", "openai"),
}
# What a direct call's text is relayed to: the gateway it is the baseline for.
DIRECT = {"function": "direct", "function-v1": "direct", "function-wide": "direct", "function-responses": "direct", "function-anthropic": "direct", "floor": "direct", "official": "direct", "relay": "direct",
          "litellm": "direct-compat", "portkey": "direct-compat"}


class Callers:
    def __init__(self, urls: dict[str, str], base_url: str, model: str = "qwen-plus",
                 headers: dict[str, dict[str, str]] | None = None) -> None:
        self.urls = urls
        self.headers = headers or {}  # a target's own headers with every call (Portkey's routing and key)
        self.base_url = base_url  # the emulator's /api/v1
        self.compatible_url = base_url.removesuffix("/api/v1") + "/compatible-mode/v1"
        self.model = model
        self._local = threading.local()
        self._lock = threading.Lock()
        from dashscope import Generation

        self._generation = Generation

    # -- clients: the direct ones shared by every thread, as each gateway shares its own inside --

    def _session(self) -> requests.Session:
        # One pooled session for all threads, as the function has (core/upstream/session.py): a session
        # per thread would make each concurrent batch pay for new sessions the function never makes.
        with self._lock:
            if not hasattr(self, "_shared_session"):
                session = requests.Session()
                session.mount("http://", HTTPAdapter(pool_maxsize=256))
                self._shared_session = session
        return self._shared_session

    def _openai(self) -> Any:
        # One client for all threads, as LiteLLM keeps one per deployment: an OpenAI client per thread
        # builds an httpx client and its SSL context each time, which the direct side would pay alone.
        with self._lock:
            if not hasattr(self, "_shared_openai"):
                import httpx
                from openai import OpenAI

                limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
                self._shared_openai = OpenAI(api_key=KEY, base_url=self.compatible_url, max_retries=0, timeout=60,
                                             http_client=httpx.Client(limits=limits, timeout=60))
        return self._shared_openai

    def _connection(self, target: str) -> http.client.HTTPConnection:
        connections = self._local.__dict__.setdefault("connections", {})
        if target not in connections:
            host, port = self.urls[target].removeprefix("http://").split(":")
            connections[target] = http.client.HTTPConnection(host, int(port), timeout=120)
        return connections[target]

    def request(self, target: str, path: str, body: bytes, content_type: str, token: str = GATEWAY_TOKEN) -> http.client.HTTPResponse:
        connection = self._connection(target)
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}", **self.headers.get(target, {})}
        try:
            connection.request("POST", path, body=body, headers=headers)
            return connection.getresponse()
        except (ConnectionError, http.client.HTTPException):  # a server that closed an idle connection
            connection.close()
            connection.request("POST", path, body=body, headers=headers)
            return connection.getresponse()

    def _gateway(self, target: str, text: str, stream: bool) -> http.client.HTTPResponse:
        call_path, stream_path, kind = ROUTES[target]
        if kind == "text":
            return self.request(target, stream_path if stream else call_path, text.encode(), "text/plain")
        body: dict[str, Any] = {"model": self.model, "messages": [SYSTEM, {"role": "user", "content": text}]}
        if kind == "responses":  # store off: the same work as the other doors, nothing kept
            body = {"model": self.model, "instructions": SYSTEM["content"], "input": text, "store": False}
        elif kind == "anthropic":  # Anthropic's shape: the system prompt beside the messages, max_tokens required
            body = {"model": self.model, "max_tokens": 1024, "system": SYSTEM["content"],
                    "messages": [{"role": "user", "content": text}]}
        if stream:
            body["stream"] = True
        return self.request(target, stream_path if stream else call_path, json.dumps(body).encode(), "application/json")

    # -- the calls --

    def call(self, target: str, text: str) -> None:
        if target == "direct":
            response = self._generation.call(self.model, messages=[SYSTEM, {"role": "user", "content": text}], api_key=KEY,
                                             base_address=self.base_url, result_format="message", session=self._session())
            assert response.status_code == 200, response
        elif target == "direct-compat":
            self._openai().chat.completions.create(model=self.model, messages=[SYSTEM, {"role": "user", "content": text}])
        else:
            response = self._gateway(target, text, stream=False)
            body = response.read()
            assert response.status == 200, (target, response.status, body[:300])

    def sdk_stream(self, text: str) -> Any:
        """A direct stream with the DashScope SDK (incremental, as the function asks for it): its chunks."""
        return self._generation.call(self.model, messages=[{"role": "user", "content": text}], api_key=KEY,
                                     base_address=self.base_url, result_format="message", stream=True,
                                     incremental_output=True, session=self._session())

    def first_event(self, target: str, text: str) -> float:
        """Seconds to the first streamed event; the rest of the stream is read and discarded."""
        started = time.perf_counter()
        first = None
        if target == "direct":
            for _ in self.sdk_stream(text):
                first = first or time.perf_counter() - started
            return first or 0.0
        if target == "direct-compat":
            for _ in self._openai().chat.completions.create(model=self.model, stream=True,
                                                             messages=[{"role": "user", "content": text}]):
                first = first or time.perf_counter() - started
            return first or 0.0
        response = self._gateway(target, text, stream=True)
        assert response.status == 200, (target, response.status, response.read()[:300])
        for line in iter(response.readline, b""):
            if line.startswith(b"data:"):
                first = first or time.perf_counter() - started
        return first or 0.0

    def stream(self, target: str, text: str) -> None:
        self.first_event(target, text)
