"""Stand-ins for two packages the DashScope SDK's request modules import at the top but the function's
calls never use: `cryptography` (the SDK's request encryption) and `aiohttp` (its async API). The FC
package ships neither (requirements.txt); where one is installed (the dev environment, whose tests
use the SDK's async API), the real package is used. core/upstream/sdk.py puts them in place before
it imports the SDK.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any


class _RequestEncryptionNotShipped:
    """Stands in for the SDK's `Encryption` where `cryptography` is not installed (the FC package)."""

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        raise RuntimeError("DashScope request encryption needs the cryptography package, which this function does not ship")


def without_request_encryption() -> None:
    """Let the SDK's request modules import without `cryptography` (about 5 MB of the FC package).

    They import `dashscope.api_entities.encryption` at the top, which imports `cryptography`, but use
    it only for `enable_encryption=True`: an SDK control argument no caller can pass
    (core/parameters.py's SDK_CONTROL_ARGUMENTS) and the function never does.
    """
    name = "dashscope.api_entities.encryption"
    if name in sys.modules or importlib.util.find_spec("cryptography") is not None:
        return
    placeholder = types.ModuleType(name, "DashScope request encryption, not shipped: see core/upstream/sdk_stand_ins.py")
    placeholder.Encryption = _RequestEncryptionNotShipped  # type: ignore[attr-defined]
    sys.modules[name] = placeholder


def without_aiohttp() -> None:
    """Let the SDK's request modules import without `aiohttp` (1.7 MB of the FC package zipped with
    its dependencies, and about 0.1 s of every cold start: importing it builds SSL contexts).

    On the synchronous path the function takes (Generation, MultiModalConversation, TextEmbedding
    with a requests.Session), the SDK names aiohttp's types only: in annotations evaluated when its
    modules load (`aiohttp.ClientResponse`) and in `isinstance(session, aiohttp.ClientSession)`,
    which tells a requests session from an aiohttp one. A type of the stand-in is a class nothing is
    an instance of, so that check reads False as it does with aiohttp; making one (which only the
    SDK's async API does) raises. tests/server/test_deploy_package.py calls every door on the
    package, where this stand-in is what the SDK gets.
    """
    if "aiohttp" in sys.modules or importlib.util.find_spec("aiohttp") is not None:
        return
    placeholder = types.ModuleType("aiohttp", "aiohttp, not shipped: see core/upstream/sdk_stand_ins.py")
    made: dict[str, type] = {}

    def not_shipped_type(name: str) -> Any:
        if name.startswith("__"):  # __path__, __file__, ...: what the import system and tools probe
            raise AttributeError(name)
        if name not in made:
            made[name] = type(name, (_AiohttpNotShipped,), {"__module__": "aiohttp"})
        return made[name]

    placeholder.__getattr__ = not_shipped_type  # type: ignore[attr-defined]  # PEP 562
    sys.modules["aiohttp"] = placeholder


class _AiohttpNotShipped:
    def __init__(self, *_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"aiohttp.{type(self).__name__}: the DashScope SDK's async API needs aiohttp, which this "
                           "function does not ship")


class _AsDecoded:
    """Stands in for the SDK's response class (GenerationResponse, MultiModalConversationResponse) in
    `with_answers_as_decoded`: the response the SDK's HTTP layer made is handed over as it is."""

    @staticmethod
    def from_api_response(response: Any) -> Any:
        return response


def with_answers_as_decoded(api: type, response_class: str) -> type:
    """A subclass of the SDK's `api` whose `call` is the SDK's own, except that it hands over the
    response the SDK's HTTP layer decoded (a DashScopeAPIResponse: status_code, request_id, code,
    message, headers, and `output` and `usage` as its JSON decoder made them) instead of wrapping it
    first in `response_class`.

    That wrapping (`from_api_response`) rebuilds `output` as nested SDK objects on every stream chunk
    (GenerationOutput, Choice, Message: about 15 µs of the SDK's 29 µs per relayed event in bulk,
    scripts/benchmark/relay_cost.py), which the function then copied back to plain dicts. The request,
    its headers, the HTTP session, the SSE parse and the error responses stay the SDK's. Only the one
    name in the code of `call` is rebound (a copy of the function with its own globals), so nothing
    else that uses the SDK in the same process sees a change; the SDK's merging of incremental chunks
    (`incremental_output` false on a stream) keeps its own objects. Should a new SDK not name
    `response_class` in `call`, `api` is returned unchanged: the answers are then the SDK's objects,
    which core/upstream/answers.py copies (tests/app/test_sdk_answers.py fails on that).
    """
    stock = api.__dict__.get("call")
    function = getattr(stock, "__func__", None)
    if function is None or response_class not in _names_in(function.__code__):
        return api
    names = dict(function.__globals__)
    names[response_class] = _AsDecoded
    call = types.FunctionType(function.__code__, names, function.__name__, function.__defaults__, function.__closure__)
    call.__kwdefaults__ = function.__kwdefaults__
    call.__qualname__, call.__doc__ = function.__qualname__, function.__doc__
    return type(api.__name__, (api,), {"call": classmethod(call), "__module__": __name__, "__doc__": api.__doc__})


def _names_in(code: types.CodeType) -> set[str]:
    """The global names a function's code reads, its nested code (a generator expression) included."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_in(constant)
    return names
