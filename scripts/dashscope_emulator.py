"""A local stand-in for DashScope's native text-generation API, for tests and for running offline.

It answers ``POST /api/v1/services/aigc/text-generation/generation`` the way the API reference shows:
JSON, or SSE (``id:`` / ``event:result`` / ``:HTTP_STATUS/200`` / ``data:``) when the caller asks for
a stream, in the ``text`` or ``message`` result format, incremental or cumulative, with usage, tool
calls and DashScope's error bodies. Point the official SDK at it with
``DASHSCOPE_HTTP_BASE_URL=http://127.0.0.1:<port>/api/v1``.

Faults are asked for per request, inside the last message (or the prompt), so that concurrent tests
never step on each other and so that they work through any client::

    [[emulate delay=1.5]]                   wait before answering
    [[emulate chunk_delay=0.2]]             wait between stream events
    [[emulate status=429 code=Throttling.RateQuota message="Requests rate limit exceeded"]]
    [[emulate status=503 flaky=2]]          the error for the first 2 identical requests, then answers
    [[emulate status=429 retry_after=1]]    the error carries a Retry-After header
    [[emulate fail_after=2]]                two events, then an ``event:error`` (status= and code= apply)
    [[emulate cut_after=2]]                 two events, then the connection is dropped
    [[emulate end_after=2]]                 two events, then the body ends cleanly without a finish_reason
    [[emulate reply="exact reply text"]]    answer with this text

Every request is kept in a history (``Emulator.history`` in-process, ``GET /_emulator/requests``
over HTTP) so tests assert on what actually reached "DashScope".

Run it on its own: ``python scripts/dashscope_emulator.py --port 9100 [--delay 0.5]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import socket
import threading
import time
import uuid
from collections import deque
from typing import Any, Iterator

from flask import Flask, Response, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

GENERATION_PATH = "/api/v1/services/aigc/text-generation/generation"
INVALID_KEY = "sk-invalid"
DIRECTIVE = re.compile(r"\[\[emulate\s+(.*?)\]\]", re.DOTALL)
# One piece per CJK character, word or punctuation mark, trailing spaces attached, so that the
# pieces of a reply concatenate back to exactly the reply.
PIECE = re.compile(r"[\u3400-\u9fff]\s*|[A-Za-z0-9_']+\s*|[^\sA-Za-z0-9_'\u3400-\u9fff]\s*|\s+")


def pieces(text: str) -> list[str]:
    return PIECE.findall(text)


def count_tokens(text: str) -> int:
    return len([piece for piece in pieces(text) if piece.strip()])


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _directives(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in DIRECTIVE.finditer(text):
        for token in shlex.split(match.group(1)):
            key, _, value = token.partition("=")
            found[key] = value
    return found


DEFAULT_ERROR_MESSAGES = {
    400: "The request is invalid.",
    401: "Invalid API-key provided.",
    429: "Requests rate limit exceeded, please try again later.",
}
INTERNAL_ERROR_MESSAGE = "An internal error has occurred, please try again later."


def _error(status: int, code: str, message: str, request_id: str) -> Response:
    response = jsonify({"code": code, "message": message, "request_id": request_id})
    response.status_code = status
    return response


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log: tests run thousands of requests and read the history instead."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class Emulator:
    """The emulator app plus a server thread, for use from tests and from the command line."""

    def __init__(self, delay: float = 0.0, chunk_delay: float = 0.0, history_size: int = 1000) -> None:
        self.delay = delay
        self.chunk_delay = chunk_delay
        self._history: deque[dict[str, Any]] = deque(maxlen=history_size)
        self._lock = threading.Lock()
        # For `flaky`: how many times each distinct request text has been seen.
        self._attempts: dict[str, int] = {}
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # -- history -------------------------------------------------------------------------------
    @property
    def history(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._history)

    def last_request(self) -> dict[str, Any]:
        with self._lock:
            return self._history[-1]

    def clear(self) -> None:
        with self._lock:
            self._history.clear()

    # -- server --------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> "Emulator":
        self._server = make_server(host, port, self.app, threaded=True, request_handler=_QuietRequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def base_url(self) -> str:
        """The value for DASHSCOPE_HTTP_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/api/v1"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the API -------------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask("dashscope_emulator")

        @app.post(GENERATION_PATH)
        def generation() -> Response:
            return self._generation()

        @app.get("/_emulator/requests")
        def requests_seen() -> Response:
            return jsonify(self.history)

        @app.delete("/_emulator/requests")
        def forget_requests() -> Response:
            self.clear()
            return jsonify({"cleared": True})

        @app.get("/_emulator/health")
        def health() -> Response:
            return jsonify({"status": "ok"})

        return app

    def _generation(self) -> Response:
        request_id = str(uuid.uuid4())
        body = request.get_json(silent=True)
        authorization = request.headers.get("Authorization", "")
        api_key = authorization.removeprefix("Bearer ").strip()
        wants_stream = (
            request.headers.get("X-DashScope-SSE", "").lower() == "enable"
            or "text/event-stream" in request.headers.get("Accept", "")
        )
        record: dict[str, Any] = {
            "request_id": request_id,
            "api_key": api_key,
            "headers": {name: value for name, value in request.headers.items()},
            "body": body,
            "stream": wants_stream,
            "received_at": time.monotonic(),
        }
        with self._lock:
            self._history.append(record)

        if not api_key:
            return _error(401, "InvalidApiKey", "No API-key provided.", request_id)
        if api_key == INVALID_KEY:
            return _error(401, "InvalidApiKey", "Invalid API-key provided.", request_id)
        if not isinstance(body, dict):
            return _error(400, "InvalidParameter", "The request body is not valid JSON.", request_id)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return _error(400, "InvalidParameter", "Model is required.", request_id)
        if not model.startswith("qwen"):
            return _error(400, "InvalidParameter", "Model not exist.", request_id)
        given = body.get("input") or {}
        parameters = body.get("parameters") or {}
        messages = given.get("messages")
        prompt = given.get("prompt")
        if not messages and not prompt:
            return _error(400, "InvalidParameter", "Either prompt or messages must be provided.", request_id)

        last_text = _text_of(messages[-1].get("content")) if messages else str(prompt)
        directives = _directives(last_text)
        time.sleep(float(directives.get("delay", self.delay)))
        if "status" in directives and "fail_after" not in directives and self._still_failing(last_text, directives):
            status = int(directives["status"])
            response = _error(
                status,
                directives.get("code", "InternalError"),
                directives.get("message", DEFAULT_ERROR_MESSAGES.get(status, INTERNAL_ERROR_MESSAGE)),
                request_id,
            )
            if "retry_after" in directives:
                response.headers["Retry-After"] = directives["retry_after"]
            return response

        answer = _Answer.compose(model, messages, prompt, parameters, directives)
        if wants_stream:
            connection = request.environ.get("werkzeug.socket")
            return Response(
                self._events(answer, parameters, directives, request_id, connection, record),
                content_type="text/event-stream;charset=UTF-8",
                headers={"X-DashScope-Request-Id": request_id},
            )
        return jsonify(answer.body(answer.text, answer.finish_reason, answer.output_tokens, request_id))

    def _still_failing(self, text: str, directives: dict[str, str]) -> bool:
        if "flaky" not in directives:
            return True
        with self._lock:
            self._attempts[text] = self._attempts.get(text, 0) + 1
            return self._attempts[text] <= int(directives["flaky"])

    def _events(
        self,
        answer: "_Answer",
        parameters: dict[str, Any],
        directives: dict[str, str],
        request_id: str,
        connection: socket.socket | None,
        record: dict[str, Any],
    ) -> Iterator[bytes]:
        """The stream's events. `record` (its history entry) tracks how far it got: a stream whose
        reader went away stops at its next event, with `completed` still False."""
        record.update(events_sent=0, events_planned=len(answer.stream_parts()), completed=False)
        incremental = bool(parameters.get("incremental_output"))
        chunk_delay = float(directives.get("chunk_delay", self.chunk_delay))
        parts = answer.stream_parts()
        stop_after = {name: int(directives[name]) for name in ("fail_after", "cut_after", "end_after") if name in directives}
        sent_text = ""
        for index, part in enumerate(parts, start=1):
            if index > 1 and chunk_delay:
                time.sleep(chunk_delay)
            sent_text += part
            last = index == len(parts)
            text = part if incremental else sent_text
            body = answer.body(
                text,
                answer.finish_reason if last else "null",
                answer.output_tokens if last else count_tokens(sent_text),
                request_id,
                tool_calls=last,
            )
            yield _sse(index, "result", 200, body)
            record["events_sent"] = index
            if last:
                record["completed"] = True
                return
            if index == stop_after.get("fail_after"):
                status = int(directives.get("status", 500))
                error = {
                    "code": directives.get("code", "InternalError"),
                    "message": directives.get("message", DEFAULT_ERROR_MESSAGES.get(status, INTERNAL_ERROR_MESSAGE)),
                    "request_id": request_id,
                }
                yield _sse(index + 1, "error", status, error)
                return
            if index == stop_after.get("end_after"):
                return
            if index == stop_after.get("cut_after") and connection is not None:
                # Drop the TCP connection mid-body, as a broken network path would.
                connection.shutdown(socket.SHUT_RDWR)
                return


def _sse(event_id: int, event: str, status: int, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id:{event_id}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{payload}\n\n".encode()


class _Answer:
    """What the emulated model says to one request, and how to shape it."""

    def __init__(
        self,
        result_format: str,
        text: str,
        finish_reason: str,
        input_tokens: int,
        tool_calls: list[dict[str, Any]] | None,
    ) -> None:
        self.result_format = result_format
        self.text = text
        self.finish_reason = finish_reason
        self.input_tokens = input_tokens
        self.tool_calls = tool_calls
        self.output_tokens = count_tokens(text) + (1 if tool_calls else 0)

    @classmethod
    def compose(
        cls,
        model: str,
        messages: list[dict[str, Any]] | None,
        prompt: str | None,
        parameters: dict[str, Any],
        directives: dict[str, str],
    ) -> "_Answer":
        result_format = parameters.get("result_format") or "text"
        if messages:
            input_text = "".join(_text_of(message.get("content")) for message in messages)
            last = messages[-1]
        else:
            input_text = str(prompt)
            last = {"role": "user", "content": prompt}
        input_tokens = count_tokens(input_text)
        said = DIRECTIVE.sub("", _text_of(last.get("content"))).strip()

        tools = parameters.get("tools") or []
        if tools and parameters.get("tool_choice") != "none" and last.get("role") == "user":
            return cls(result_format, "", "tool_calls", input_tokens, [_tool_call(tools, parameters, said)])

        if "reply" in directives:
            text = directives["reply"]
        elif last.get("role") == "tool":
            text = f"The tool answered: {said}"
        else:
            text = f"This is the DashScope emulator ({model}). You said: {said}"
        if (parameters.get("response_format") or {}).get("type") == "json_object":
            text = json.dumps({"model": model, "answer": text}, ensure_ascii=False)

        finish_reason = "stop"
        stops = parameters.get("stop")
        for stop in [stops] if isinstance(stops, str) else (stops or []):
            if isinstance(stop, str) and stop in text:
                text = text[: text.index(stop)]
        max_tokens = parameters.get("max_tokens")
        if isinstance(max_tokens, int) and count_tokens(text) > max_tokens:
            kept, counted = "", 0
            for piece in pieces(text):
                counted += 1 if piece.strip() else 0
                if counted > max_tokens:
                    break
                kept += piece
            text, finish_reason = kept, "length"
        return cls(result_format, text, finish_reason, input_tokens, None)

    def stream_parts(self) -> list[str]:
        # Three pieces an event, like the real service's uneven chunks; at least one event.
        split = pieces(self.text)
        return ["".join(split[i : i + 3]) for i in range(0, len(split), 3)] or [""]

    def body(
        self,
        text: str,
        finish_reason: str,
        output_tokens: int,
        request_id: str,
        tool_calls: bool = True,
    ) -> dict[str, Any]:
        usage = {
            "input_tokens": self.input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": self.input_tokens + output_tokens,
        }
        if self.result_format == "message":
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if self.tool_calls and tool_calls:
                message["tool_calls"] = self.tool_calls
            output: dict[str, Any] = {"choices": [{"finish_reason": finish_reason, "message": message}]}
        else:
            output = {"text": text, "finish_reason": finish_reason}
        return {"output": output, "usage": usage, "request_id": request_id}


def _tool_call(tools: list[dict[str, Any]], parameters: dict[str, Any], said: str) -> dict[str, Any]:
    choice = parameters.get("tool_choice")
    wanted = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    spec = next(
        (tool["function"] for tool in tools if tool.get("function", {}).get("name") == wanted),
        tools[0].get("function", {}),
    )
    required = (spec.get("parameters") or {}).get("required") or []
    arguments = {name: said for name in required}
    return {
        "index": 0,
        "id": f"call_{uuid.uuid4().hex[:22]}",
        "type": "function",
        "function": {"name": spec.get("name", ""), "arguments": json.dumps(arguments, ensure_ascii=False)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--chunk-delay", type=float, default=0.05, help="seconds between stream events")
    options = parser.parse_args()
    emulator = Emulator(delay=options.delay, chunk_delay=options.chunk_delay)
    server = make_server(options.host, options.port, emulator.app, threaded=True)
    print(f"DashScope emulator on http://{options.host}:{server.server_port}/api/v1", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
