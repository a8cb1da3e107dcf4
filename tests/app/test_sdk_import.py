"""Both SDK APIs the function calls are imported without the SDK's package __init__ (core/upstream/sdk.py):
the cold start stays what it was with Generation alone (measured: ~0.19 s, 35 dashscope modules)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

CHECK = """
import sys
import core.upstream.sdk as sdk
package = sys.modules["dashscope"]
assert "__getattr__" in vars(package), "the package __init__ ran"
assert "dashscope.v2" not in sys.modules and "dashscope.audio" not in sys.modules
assert sdk.MultiModalConversation.__module__ == "core.upstream.sdk"
assert sdk.MultiModalConversation._preprocess_messages("qwen3.6-flash", [{"role": "user", "content": [{"text": "/etc/passwd"}]}], "k") is False
print(len([name for name in sys.modules if name.startswith("dashscope")]))
"""


def test_generation_and_multimodal_conversation_load_without_the_sdk_package():
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 60  # `import dashscope` loads about 170


WITHOUT_AIOHTTP = """
import importlib.util, sys
found = importlib.util.find_spec
importlib.util.find_spec = lambda name, *rest: None if name == "aiohttp" else found(name, *rest)  # as in the FC package
import requests
import core.upstream.sdk as sdk
import aiohttp
from dashscope.api_entities.http_request import HttpRequest
assert not [name for name in sys.modules if name.startswith("aiohttp.")], "the real aiohttp was imported"
assert not isinstance(requests.Session(), aiohttp.ClientSession) and aiohttp.ClientSession is aiohttp.ClientSession
request = HttpRequest("http://127.0.0.1:1/x", "k", "POST", session=requests.Session())
assert request._external_session is not None and request._external_aio_session is None
try:
    aiohttp.ClientTimeout(total=1)
except RuntimeError as error:
    print(error)
"""


def test_the_sdk_loads_with_the_aiohttp_stand_in_where_aiohttp_is_not_installed():
    """The FC package ships no aiohttp (core/upstream/sdk_stand_ins.py): the SDK's synchronous path
    takes a requests session for what it is; only its async API, which needs aiohttp, says so."""
    done = subprocess.run([sys.executable, "-c", WITHOUT_AIOHTTP], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "async API needs aiohttp" in done.stdout
