"""The /invoke door: what FC calls for API and console invocations, and what other systems POST to.

``POST /invoke`` picks the mode from the body; ``/invoke/messages`` and ``/invoke/prompt`` fix it.
Answers are the JSON the FC console shows for the official samples, or DashScope-shaped SSE events.
The door parses (core/dashscope_wire.py) and shapes; web/serve.py does the rest.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, request

from core.config import Config, InvokeMode
from core.errors import InvalidRequest
from core.retired_models import resolve_model
from core.types import Completion
from handlers.invoke.body import InvokeRequest, parse_invoke_body, stream_flag
from handlers.invoke.console_shape import console_body
from web.errors import error_body
from web.serve import serve
from web.services import services
from web.sse import DashScopeEvents

bp = Blueprint("invoke", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _stream_requested() -> bool:
    """?stream=true, Accept: text/event-stream, or DashScope's own X-DashScope-SSE: enable."""
    from_query = stream_flag(request.args.get("stream"), "stream")
    if from_query is not None:
        return from_query
    sse = request.headers.get("X-DashScope-SSE")
    if sse is not None and sse.strip().lower() not in ("enable", "disable"):
        # As a bad ?stream= is a 400: a header that means neither must not silently mean "off".
        raise InvalidRequest(f"the X-DashScope-SSE header must be enable or disable, got {sse[:40]!r}")
    return "text/event-stream" in request.headers.get("Accept", "") or (sse or "").strip().lower() == "enable"


def _multimodal(parsed: InvokeRequest) -> bool:
    """Whether the call went to the multimodal endpoint, whose SDK class prints more fields: the
    endpoint of the model called, MODEL_ALIASES applied (admission made the call; it cannot fail now)."""
    found = services()
    called, _ = resolve_model(parsed.call, found.config.model_aliases)
    return found.rules.endpoint(called.model) == "multimodal"


class InvokeDoor:
    def __init__(self, fixed_mode: InvokeMode | None) -> None:
        self._fixed_mode = fixed_mode

    def parse(self, body: bytes, config: Config) -> InvokeRequest:
        return parse_invoke_body(body, request.mimetype, config, self._fixed_mode, _stream_requested())

    def answer(self, completion: Completion, parsed: InvokeRequest) -> dict[str, Any]:
        return console_body(completion, _multimodal(parsed))

    def stream_format(self, parsed: InvokeRequest) -> DashScopeEvents:
        multimodal = _multimodal(parsed)
        return DashScopeEvents(lambda chunk: console_body(chunk, multimodal), error_body)


DOORS = {mode: InvokeDoor(mode) for mode in (None, "messages", "prompt")}


@bp.post("/invoke")
def invoke() -> Response:
    return serve(DOORS[None])


@bp.post("/invoke/messages")
def invoke_messages() -> Response:
    return serve(DOORS["messages"])


@bp.post("/invoke/prompt")
def invoke_prompt() -> Response:
    return serve(DOORS["prompt"])
