"""The one module that imports `dashscope`: one SDK call, and what comes back turned into our own
types (`Completion` for a result or a stream chunk, `core.errors` for every failure), so nothing
else ever sees an SDK object or an SDK exception.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any, Iterator

import requests
from urllib3.exceptions import ReadTimeoutError

from core.errors import (
    ApiError,
    InvalidRequest,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamStreamIncomplete,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from core.types import Completion, EmbeddingCall, GenerationCall
from core.upstream.answers import completion_of, error_of, response_field
from core.upstream.sdk_stand_ins import with_answers_as_decoded, without_aiohttp, without_request_encryption

log = logging.getLogger("qwenfc")


def _import_generation() -> tuple[Any, Any, str]:
    """Import the SDK's two generation APIs (Generation for the text endpoint, MultiModalConversation
    for the multimodal one) without the rest of the SDK; return them and the SDK's own default base URL.

    `import dashscope` runs the package's __init__, which loads every API the SDK has (its 2.0
    client, audio, embeddings, ...): about 1.1 s, most of a cold start. Generation needs about a
    third of that. So the package module is registered without running its __init__, with a PEP 562
    `__getattr__` that runs it the moment anything asks the package for more: nothing ever sees a
    half-made package. The legacy call path reads only `dashscope.base_http_api_url` (when no
    base_address is given: we always give one) and `dashscope.api_key` (when no key is given: we
    always give one). Should any of this fail (a new SDK, say), the SDK is imported normally, which
    needs every extra the SDK declares (the FC package ships none of them: requirements.txt).
    """
    if "dashscope" not in sys.modules:
        spec = importlib.util.find_spec("dashscope")
        if spec is not None and spec.loader is not None:
            package = importlib.util.module_from_spec(spec)

            def complete_package(name: str) -> Any:
                del package.__getattr__  # type: ignore[attr-defined]
                spec.loader.exec_module(package)  # type: ignore[union-attr]
                return getattr(package, name)

            package.__getattr__ = complete_package  # type: ignore[attr-defined]
            sys.modules["dashscope"] = package
            without_request_encryption()
            without_aiohttp()
            try:
                from dashscope.aigc.generation import Generation as generation
                from dashscope.aigc.multimodal_conversation import MultiModalConversation as conversation
                from dashscope.common import env as sdk_env

                return generation, conversation, sdk_env.base_http_api_url
            except Exception:  # noqa: BLE001 - fall back to the ordinary import below
                for name in [name for name in sys.modules if name == "dashscope" or name.startswith("dashscope.")]:
                    del sys.modules[name]
    import dashscope

    return dashscope.Generation, dashscope.MultiModalConversation, dashscope.base_http_api_url


_Generation, _MultiModalConversation, SDK_BASE_URL = _import_generation()
# The SDK's calls, handing over the responses its HTTP layer decoded (plain dicts inside), not its
# response objects: core/upstream/sdk_stand_ins.py says why.
Generation = with_answers_as_decoded(_Generation, "GenerationResponse")
_DecodedConversation = with_answers_as_decoded(_MultiModalConversation, "MultiModalConversationResponse")


class MultiModalConversation(_DecodedConversation):  # type: ignore[misc, valid-type]
    """The SDK's MultiModalConversation, minus its uploads.

    The SDK's `call` hands every message to `_preprocess_messages`, which uploads to OSS, with the
    function's key, any local file a part names: `image`, `audio`, `video` and also `text` values
    (`{"text": "/etc/passwd"}`, `file:///proc/self/environ`, a path relative to the working
    directory), then hands the model the file. Media URLs are checked before any call
    (core/media.py), but a text part may legitimately read like a path, so the preprocessing is
    switched off here: nothing is ever uploaded, every value goes to DashScope as it is. The method
    is private: dashscope stays pinned (requirements.txt), and tests/app/test_no_uploads.py fails
    the moment an upload happens.
    """

    @classmethod
    def _preprocess_messages(cls, model: str, messages: list, api_key: str) -> bool:  # noqa: ARG003
        return False


# The SDK logs every transport failure with a traceback under the "dashscope" logger. We report
# failures ourselves, once, in the request's log line; its messages would only duplicate them.
logging.getLogger("dashscope").setLevel(logging.CRITICAL)


# HTTPStatus.OK read once: an enum member looked up on every stream chunk costs a descriptor call.
_OK = int(HTTPStatus.OK)


def send(
    call: GenerationCall, stream: bool, *, api_key: str | None, base_url: str, session: requests.Session, timeout_s: float
) -> Any:
    """One call through the SDK: its response, or (streaming) its iterator of responses. A failure
    to send becomes one of our errors (`transport_error`)."""
    kwargs: dict[str, Any] = dict(call.parameters)
    if call.messages is not None:
        kwargs["messages"] = call.messages
    if call.prompt is not None:
        kwargs["prompt"] = call.prompt
    # The endpoint was chosen at admission (core/routing.py), from the model's name.
    api = MultiModalConversation if call.endpoint == "multimodal" else Generation
    _watch_answers(session)
    _answer.seen = False
    try:
        return api.call(
            model=call.model,
            api_key=api_key,
            stream=stream,
            base_address=base_url,
            session=session,
            request_timeout=timeout_s,
            **kwargs,
        )
    except Exception as exc:  # noqa: BLE001 - every transport failure becomes one of ours
        raise transport_error(exc) from exc


def result(response: Any) -> Completion:
    """A non-streamed response as a Completion, or its error as ours."""
    if response_field(response, "status_code") != _OK:
        raise error_of(response)
    return completion_of(response)


def next_chunk(responses: Iterator[Any], received: bool) -> Completion | None:
    """The next chunk of a stream, None at its end, or the failure as one of our errors.
    `received`: whether a chunk already came (a broken connection is then a broken stream)."""
    if not received:
        _answer.seen = False  # a stream's request goes out at its first next()
    try:
        response = next(responses)
    except StopIteration:
        return None
    except Exception as exc:  # noqa: BLE001 - every transport failure becomes one of ours
        # Once DashScope has answered the stream's head, a broken connection is a broken stream (never
        # "could not connect", nor retried), even inside its first event.
        raise transport_error(exc, during_stream=received or getattr(_answer, "seen", False)) from exc
    if response_field(response, "status_code") != _OK:
        raise error_of(response, in_stream=True)
    return completion_of(response)


_answer = threading.local()


def _mark_answered(response: requests.Response, *_args: Any, **_kwargs: Any) -> requests.Response:
    _answer.seen = True
    return response


def _watch_answers(session: requests.Session) -> None:
    hooks = session.hooks.setdefault("response", [])
    if _mark_answered not in hooks:
        hooks.append(_mark_answered)


def _is_timeout(exc: Exception) -> bool:
    # Reading a streamed body, requests re-raises urllib3's read timeout as a ConnectionError.
    return isinstance(exc, requests.exceptions.Timeout) or any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )


# What the SDK raises when it cannot build the request (its input checks; a lone surrogate or nesting
# core/json_input.py refuses first): the caller's 400, never retried, but only when DashScope had not
# answered (`_answer`): the SDK raises TypeError and the like reading a malformed answer too.
REQUEST_BUILD_FAILURES: tuple[type[BaseException], ...] = (UnicodeError, RecursionError, TypeError)
try:
    from dashscope.common import error as _sdk_error

    REQUEST_BUILD_FAILURES += tuple(
        getattr(_sdk_error, name)
        for name in ("InputRequired", "InputDataRequired", "ModelRequired", "InvalidInput", "InvalidModel",
                     "InvalidParameter", "UnsupportedDataType", "UnsupportedModel")
        if isinstance(getattr(_sdk_error, name, None), type)
    )
except ImportError:  # a future SDK without this module: the built-in failures above still apply
    pass
_TRANSPORT_FAILURES = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def transport_error(exc: Exception, during_stream: bool = False) -> ApiError:
    """What a failure inside the SDK (nothing answered) means, as one of our errors."""
    if getattr(_answer, "seen", False) and not isinstance(exc, _TRANSPORT_FAILURES):
        # The traceback is the only clue to what came back: logged, never answered.
        log.error("DashScope's answer could not be read (%s)", type(exc).__name__, exc_info=exc)
        return UpstreamBadResponse(
            f"DashScope answered something this function could not read ({type(exc).__name__}): not a "
            "DashScope answer (a proxy's or captive portal's page?) or one of an unexpected shape"
        )
    if not during_stream and isinstance(exc, REQUEST_BUILD_FAILURES):
        return InvalidRequest(
            f"the request could not be turned into a DashScope request ({type(exc).__name__}); nothing was sent"
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return UpstreamUnreachable("could not connect to DashScope in time (ConnectTimeout)")
    if _is_timeout(exc):
        return UpstreamTimeout(f"DashScope sent nothing for the configured timeout ({type(exc).__name__})")
    if during_stream and isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        return UpstreamStreamIncomplete("the connection to DashScope broke in the middle of the stream")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return UpstreamUnreachable(f"could not connect to DashScope ({type(exc).__name__})")
    if isinstance(exc, requests.exceptions.RequestException):
        return UpstreamUnreachable(f"the request to DashScope failed ({type(exc).__name__})")
    return UpstreamError(f"the DashScope SDK failed ({type(exc).__name__})")


def embed(
    call: EmbeddingCall, stream: bool, *, api_key: str | None, base_url: str, session: requests.Session, timeout_s: float
) -> Any:
    """One TextEmbedding call (`send`'s signature; never streamed), its SDK module imported on first use."""
    from dashscope.embeddings.text_embedding import TextEmbedding

    try:
        return TextEmbedding.call(model=call.model, input=call.texts, api_key=api_key, base_address=base_url,
                                  session=session, request_timeout=timeout_s, **call.parameters)
    except Exception as exc:  # noqa: BLE001 - every transport failure becomes one of ours
        raise transport_error(exc) from exc


_tokenizer: list[Any] = []
_tokenizer_lock = threading.Lock()


def token_ids(text: str) -> list[int]:
    """`text` in the SDK's bundled Qwen tokenizer (tiktoken over dashscope/resources/qwen.tiktoken, the
    first Qwen's vocabulary, which the FC package ships packed: core/upstream/vocabulary.py): loaded
    on first use (about 0.3 s), then shared; no network, no key."""
    with _tokenizer_lock:
        if not _tokenizer:
            from dashscope.tokenizers import tokenizer as sdk_tokenizer

            from core.upstream.vocabulary import vocabulary_file

            resources = Path(sdk_tokenizer.root_path) / "resources"
            _tokenizer.append(vocabulary_file(resources, sdk_tokenizer.QwenTokenizer))
    return list(_tokenizer[0].encode(text))


def token_text(token_id: int) -> str:
    return _tokenizer[0].decode([token_id])
