"""The OpenAI-compatible door under /v1/: views.py (chat completions, embeddings, models), chat_request.py
(a Chat Completions body -> the call; OpenAI's error body), parts.py (content parts), answers.py and
choices.py (chat.completion and its chunks), embeddings_body.py.
"""

from handlers.openai.views import init_app

__all__ = ["init_app"]
