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
