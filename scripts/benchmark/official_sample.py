"""BASELINE, NOT PART OF THE PRODUCT. The official "messages" sample from the FC Qwen tutorial,
rebuilt for the benchmark to measure against.

It behaves as the tutorial's sample does: Flask's built-in server on its own (`app.run`), the raw
body as the user's message, one `dashscope.Generation.call` per request with a random seed, the
SDK response returned as is, and a print of every payload and response. The SDK finds the
emulator through DASHSCOPE_HTTP_BASE_URL and the key through DASHSCOPE_API_KEY, both read at
import. Run: ``python official_sample.py PORT``.
"""

import random
import sys
from http import HTTPStatus

import dashscope
from flask import Flask, abort, request

app = Flask(__name__)


def call_with_messages(content: str):
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": content},
    ]
    response = dashscope.Generation.call(
        # The sample's qwen_turbo, retired by DashScope on 2026-10-10 (notice 731): its current successor.
        dashscope.Generation.Models.qwen_plus,
        messages=messages,
        seed=random.randint(1, 10000),
        result_format="message",
    )
    if response.status_code == HTTPStatus.OK:
        print(response)
    else:
        print(f"Request id: {response.request_id}, Status code: {response.status_code}, "
              f"error code: {response.code}, error message: {response.message}")
    return response


@app.route("/invoke", methods=["POST", "GET"])
def index():
    payload = request.stream.read()
    if not payload:
        abort(403)
    text = str(payload, encoding="utf-8")
    print("Request Payload: " + text)
    return call_with_messages(text)


@app.get("/health")
def health():
    # Not in the tutorial: lets the benchmark see when the server is up.
    return {"status": "ok"}


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
