"""The emulator: a Flask app answering DashScope's paths, its history of what reached it, and the
server thread it runs on. The answers' shapes are in native.py, compatible.py and embeddings.py."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from typing import Any, Iterator

from flask import Flask, Response, jsonify, request

from . import compatible, embeddings, models, native, search
from .errors import Refusal, compatible_error, native_error
from .answers import compose
from .cache import ContextCache
from .directives import error_message, paced, parse, text_of
from .limits import limit_refusal
from .server import KeepAliveServer
from .uploads import OSS_PATH, UploadRecorder

GENERATION_PATH = "/api/v1/services/aigc/text-generation/generation"
MULTIMODAL_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
EMBEDDING_PATH = "/api/v1/services/embeddings/text-embedding/text-embedding"
COMPATIBLE_PATH = "/compatible-mode/v1/chat/completions"
UPLOADS_PATH = "/api/v1/uploads"
INVALID_KEY = "sk-invalid"


class Emulator:
    """The emulator app plus a server thread, for use from tests and from the command line.

    `strict_endpoints`: a multimodal-only model called on the text endpoint (or a text model on the
    multimodal one) gets DashScope's 400 "url error", as the real service answers. Off by default
    (lenient, for clients that only know Generation); the test suite turns it on (tests/conftest.py).

    `extra_models`: globs of model names that exist besides the emulator's list (emulator/models.py),
    for a model DashScope added later. Every other name gets DashScope's "Model not exist."."""

    def __init__(
        self,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        history_size: int = 1000,
        strict_endpoints: bool = False,
        clock: Any = time.monotonic,
        extra_models: tuple[str, ...] = (),
    ) -> None:
        self.delay = delay
        self.extra_models = tuple(extra_models)
        self.chunk_delay = chunk_delay
        self.strict_endpoints = strict_endpoints
        self.cache = ContextCache(clock)  # the context cache; `cache.advance(s)` lets time pass
        self._history: deque[dict[str, Any]] = deque(maxlen=history_size)
        self._uploads = UploadRecorder()
        self._lock = threading.Lock()
        # For `flaky`: how many times each distinct request text has been seen.
        self._attempts: dict[str, int] = {}
        self._server: KeepAliveServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # -- history -------------------------------------------------------------------------------
    @property
    def history(self) -> list[dict[str, Any]]:
        """Every model call that reached the emulator (all endpoints), oldest first."""
        with self._lock:
            return list(self._history)

    @property
    def uploads(self) -> list[dict[str, Any]]:
        """Every step of every file upload (getPolicy requests and the uploads themselves)."""
        return self._uploads.records

    def last_request(self) -> dict[str, Any]:
        with self._lock:
            return self._history[-1]

    def clear(self) -> None:
        """Forget the history, the uploads and the context cache."""
        with self._lock:
            self._history.clear()
        self._uploads.clear()
        self.cache.clear()

    # -- server --------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> "Emulator":
        self._server = KeepAliveServer(host, port, self.app)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "the emulator is not started"
        return self._server.server_port

    @property
    def base_url(self) -> str:
        """The value for DASHSCOPE_HTTP_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def compatible_base_url(self) -> str:
        """The OpenAI client's base_url for DashScope's compatible mode."""
        return f"http://127.0.0.1:{self.port}/compatible-mode/v1"

    def wait(self) -> None:
        """Block until the server stops (the command line's foreground)."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None

    # -- the API -------------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask("dashscope_emulator")
        app.add_url_rule(GENERATION_PATH, "generation", lambda: self._native(multimodal=False), methods=["POST"])
        app.add_url_rule(MULTIMODAL_PATH, "multimodal", lambda: self._native(multimodal=True), methods=["POST"])
        app.add_url_rule(EMBEDDING_PATH, "embedding", self._embedding, methods=["POST"])
        app.add_url_rule(COMPATIBLE_PATH, "compatible", self._compatible, methods=["POST"])
        app.add_url_rule(UPLOADS_PATH, "uploads", lambda: self._uploads.policy(request, _api_key()), methods=["GET"])
        app.add_url_rule(OSS_PATH, "oss", lambda: self._uploads.store(request), methods=["POST"])
        app.add_url_rule("/_emulator/requests", "requests_seen", lambda: jsonify(self.history), methods=["GET"])
        app.add_url_rule("/_emulator/uploads", "uploads_seen", lambda: jsonify(self.uploads), methods=["GET"])
        app.add_url_rule("/_emulator/health", "health", lambda: jsonify({"status": "ok"}), methods=["GET"])

        @app.delete("/_emulator/requests")
        def forget_requests() -> Response:
            self.clear()
            return jsonify({"cleared": True})

        return app

    def _record(self, request_id: str, body: Any, stream: bool) -> dict[str, Any]:
        record: dict[str, Any] = {
            "request_id": request_id,
            "path": request.path,
            "api_key": _api_key(),
            "headers": {name: value for name, value in request.headers.items()},
            "body": body,
            "stream": stream,
            "received_at": time.monotonic(),
        }
        with self._lock:
            self._history.append(record)
        return record

    def _check_key(self, refuse_missing: str, refuse_invalid: str) -> None:
        if not _api_key():
            raise Refusal(401, "InvalidApiKey", refuse_missing)
        if _api_key() == INVALID_KEY:
            raise Refusal(401, "InvalidApiKey", refuse_invalid)

    def _directed(self, text: str) -> dict[str, str]:
        """The request's directives, after its delay; a Refusal if one asks for an error now."""
        directives = parse(text)
        time.sleep(float(directives.get("delay", self.delay)))
        if "limit" in directives and self._still_failing(text, directives):
            raise limit_refusal(directives)
        if "status" in directives and "fail_after" not in directives and self._still_failing(text, directives):
            status = int(directives["status"])
            raise Refusal(status, directives.get("code"), error_message(status, directives), directives.get("retry_after"))
        return directives

    def _still_failing(self, text: str, directives: dict[str, str]) -> bool:
        if "flaky" not in directives:
            return True
        with self._lock:
            self._attempts[text] = self._attempts.get(text, 0) + 1
            return self._attempts[text] <= int(directives["flaky"])

    def _native(self, multimodal: bool) -> Response:
        request_id = str(uuid.uuid4())
        body = request.get_json(silent=True)
        wants_stream = (
            request.headers.get("X-DashScope-SSE", "").lower() == "enable"
            or "text/event-stream" in request.headers.get("Accept", "")
        )
        record = self._record(request_id, body, wants_stream)
        try:
            self._check_key("No API-key provided.", "Invalid API-key provided.")
            if not isinstance(body, dict):
                raise Refusal(400, "InvalidParameter", "The request body is not valid JSON.")
            model = body.get("model")
            if not isinstance(model, str) or not model:
                raise Refusal(400, "InvalidParameter", "Model is required.")
            if not models.exists(model, self.extra_models):
                raise Refusal(400, "InvalidParameter", "Model not exist.")
            given = body.get("input") or {}
            parameters = body.get("parameters") or {}
            messages, prompt = given.get("messages"), given.get("prompt")
            if not messages and not prompt:
                raise Refusal(400, "InvalidParameter", "Either prompt or messages must be provided.")
            if self.strict_endpoints and models.multimodal_only(model) != multimodal:
                raise Refusal(400, "InvalidParameter", models.URL_ERROR_MESSAGE)
            self._uploads.check_media(messages or [], request)
            refusal = None if wants_stream else models.refusal_when_not_streamed(model, parameters)
            if refusal:
                raise Refusal(400, "InvalidParameter", refusal)
            directives = self._directed(text_of(messages[-1].get("content")) if messages else str(prompt))
        except Refusal as refused:
            return native_error(refused, request_id)

        answer = compose(model, messages, prompt, parameters, directives)
        answer.cache = self.cache.usage(f"{_api_key()} {model}", messages or [{"content": prompt}], answer.input_tokens)
        searched = search.prepare(answer, parameters, directives, messages, prompt)  # enable_search
        result_format = parameters.get("result_format") or ("message" if answer.reasoning is not None else "text")
        shape = native.NativeShape(answer, result_format, multimodal, request_id, parameters, searched)
        if wants_stream:
            chunk_delay = float(directives.get("chunk_delay", self.chunk_delay))
            connection = request.environ.get("werkzeug.socket")
            return Response(
                _tracked(paced(directives, native.events(shape, parameters, directives, chunk_delay, connection, record)), record),
                content_type="text/event-stream;charset=UTF-8",
                headers={"X-DashScope-Request-Id": request_id},
            )
        answer = jsonify(shape.whole())
        trickled = "trickle" in directives
        return Response(paced(directives, [answer.get_data()]), content_type=answer.content_type) if trickled else answer

    def _compatible(self) -> Response:
        request_id = str(uuid.uuid4())
        body = request.get_json(silent=True)
        stream = isinstance(body, dict) and body.get("stream") is True
        record = self._record(request_id, body, stream)
        try:
            self._check_key("You didn't provide an API key.", "Incorrect API key provided. ")
            if not isinstance(body, dict):
                raise Refusal(400, None, "The request body is not valid JSON.")
            model = body.get("model")
            if not isinstance(model, str) or not model:
                raise Refusal(400, None, "The model parameter is required.")
            if not models.exists(model, self.extra_models):
                raise Refusal(404, None, f"The model `{model}` does not exist or you do not have access to it.")
            messages, parameters = compatible.to_dashscope(body)
            if not messages:
                raise Refusal(400, None, "messages must not be empty.")
            self._uploads.check_media(messages, request)
            refusal = None if stream else models.refusal_when_not_streamed(model, parameters)
            if refusal:
                raise Refusal(400, None, refusal)
            directives = self._directed(text_of(messages[-1].get("content")))
        except Refusal as refused:
            return compatible_error(refused, request_id)

        answer = compose(model, messages, None, parameters, directives)
        answer.cache = self.cache.usage(f"{_api_key()} {model}", messages, answer.input_tokens)
        if stream:
            chunk_delay = float(directives.get("chunk_delay", self.chunk_delay))
            connection = request.environ.get("werkzeug.socket")
            return Response(
                _tracked(compatible.chunks(answer, body, directives, chunk_delay, request_id, connection, record), record),
                content_type="text/event-stream;charset=UTF-8",
            )
        choices = body.get("n") if isinstance(body.get("n"), int) and body["n"] > 0 else 1
        return jsonify(compatible.completion(answer, request_id, choices))

    def _embedding(self) -> Response:
        request_id = str(uuid.uuid4())
        body = request.get_json(silent=True)
        self._record(request_id, body, False)
        try:
            self._check_key("No API-key provided.", "Invalid API-key provided.")
            if not isinstance(body, dict):
                raise Refusal(400, "InvalidParameter", "The request body is not valid JSON.")
            model = body.get("model")
            if not isinstance(model, str) or not models.embedding_exists(model, self.extra_models):
                raise Refusal(400, "InvalidParameter", "Model not exist.")
            given, parameters = body.get("input") or {}, body.get("parameters") or {}
            texts = given.get("texts")
            self._directed("".join(texts) if isinstance(texts, list) else str(texts or ""))
            return jsonify(embeddings.answer(model, given, parameters, request_id))
        except embeddings.EmbeddingRequestError as bad:
            return native_error(Refusal(400, "InvalidParameter", str(bad)), request_id)
        except Refusal as refused:
            return native_error(refused, request_id)


def _api_key() -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


def _tracked(events: Iterator[bytes], record: dict[str, Any]) -> Iterator[bytes]:
    """A stream whose history entry says when it has `ended`: sent in full, or given up on when its
    reader went away (the server closes it), so tests wait for that instead of for a while."""
    try:
        yield from events
    finally:
        record["ended"] = True
