"""The upstream: DashScope, through its official SDK.

- `protocol.py`: `Upstream`, what the request path needs of an upstream (the seam tests fake);
- `sdk.py`: the one module that imports `dashscope` (lazily, only the APIs the function calls);
- `sdk_stand_ins.py`: stand-ins for what the SDK imports and the function never uses (aiohttp, cryptography);
- `resilience.py`: retries, the in-flight limit, the call deadline;
- `session.py`: the pooled HTTP session;
- `tokens.py`: counting input tokens with the SDK's tokenizer (the native tokenizer, MAX_INPUT_TOKENS);
- `vocabulary.py`: the tokenizer's vocabulary, where the FC package ships it packed;
- `client.py`: `QwenUpstream`, which composes them.
"""

from core.upstream.client import QwenUpstream
from core.upstream.protocol import Upstream

__all__ = ["QwenUpstream", "Upstream"]
