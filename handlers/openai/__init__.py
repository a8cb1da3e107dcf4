"""The OpenAI-compatible door (/v1): chat completions, embeddings, models."""
