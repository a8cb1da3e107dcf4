"""The upstream: DashScope, through its official SDK.

- `sdk.py`: the one module that imports `dashscope` (lazily, only the APIs the function calls);
- `resilience.py`: retries, the in-flight limit, the call deadline;
- `session.py`: the pooled HTTP session;
- `client.py`: `QwenUpstream`, which composes them.
"""

from core.upstream.client import QwenUpstream

__all__ = ["QwenUpstream"]
