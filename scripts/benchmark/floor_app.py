"""The floor: a Flask app that does nothing, served by gunicorn exactly as the function is.

Whatever a request to it costs is what one extra HTTP hop costs at all: the function's added
latency is judged against it.

It also serves the SDK relay floor (/relay, /relay-stream): the same app calling DashScope through
the SDK and answering with what came back, with nothing else (no checks, no shaping, no log line).
What that costs in CPU is what a plain gateway calling the SDK as its documentation does pays per call
and per relayed event, so the function's CPU is shown against it too (the function takes the SDK's
answers as decoded, core/upstream/sdk_stand_ins.py, and so relays a streamed event for less). The
SDK is imported at the first relay, so the floor's cold start stays an empty app's.
"""

import json
import os

from flask import Flask, Response, request

app = Flask(__name__)
ANSWER = b'{"status_code":200,"output":{"text":"ok","finish_reason":"stop"}}'


@app.get("/health")
def health() -> Response:
    return Response(b'{"status":"ok"}', mimetype="application/json")


@app.post("/invoke")
def invoke() -> Response:
    return Response(ANSWER, mimetype="application/json")


@app.post("/stream")
def stream() -> Response:
    return Response(iter([b"id:1\nevent:result\ndata:" + ANSWER + b"\n\n"]), mimetype="text/event-stream")


def _sdk_call(stream: bool):  # noqa: ANN202
    from dashscope import Generation

    global _session
    if "_session" not in globals():
        import requests
        from requests.adapters import HTTPAdapter

        _session = requests.Session()
        _session.trust_env = False  # the environment's proxies and .netrc are not read on each call
        _session.mount("http://", HTTPAdapter(pool_maxsize=256))  # a connection kept for each of 128 streams
    return Generation.call(model="qwen-plus", messages=[{"role": "user", "content": request.get_data(as_text=True)}],
                           api_key=os.environ["DASHSCOPE_API_KEY"], base_address=os.environ["DASHSCOPE_HTTP_BASE_URL"],
                           result_format="message", stream=stream, incremental_output=stream, session=_session)


@app.post("/relay")
def relay() -> Response:
    answer = _sdk_call(stream=False)
    return Response(json.dumps({"output": answer.output, "usage": answer.usage}), mimetype="application/json")


@app.post("/relay-stream")
def relay_stream() -> Response:
    events = (f"data:{json.dumps({'output': chunk.output})}\n\n".encode() for chunk in _sdk_call(stream=True))
    return Response(events, mimetype="text/event-stream")
