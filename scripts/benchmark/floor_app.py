"""The floor: a Flask app that does nothing, served by gunicorn exactly as the function is.

Whatever a request to it costs is what one extra HTTP hop costs at all: the function's added
latency is judged against it.
"""

from flask import Flask, Response

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
