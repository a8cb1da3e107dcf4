"""scripts/ask against something that is not this function's /invoke: an OpenAI-shaped error is read
(not `error 404 : `), and an HTML page is one line naming it, never the page dumped."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.server.test_ask import ask

pytestmark = pytest.mark.server

PAGES = {
    "/openai/invoke/messages": (404, "application/json",
                                b'{"error":{"message":"no such route: /openai/invoke/messages","type":"invalid_request_error","param":null,"code":"NotFound"}}'),
    "/portal/invoke/messages": (502, "text/html",
                                b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>" + b"<p>noise</p>" * 200 + b"</body></html>"),
}


class _Pages(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        status, kind, body = PAGES[self.path]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_ask_reads_openai_errors_and_names_html_pages_in_one_line():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        openai = ask("hi", "--url", f"{base}/openai")
        assert openai.returncode == 1
        assert "error 404 NotFound: no such route: /openai/invoke/messages" in openai.stderr
        page = ask("hi", "--url", f"{base}/portal")
        assert page.returncode == 1
        assert page.stderr.strip().splitlines() == ["error 502: an HTML page (502 Bad Gateway), not this function's answer: check --url"]
    finally:
        server.shutdown()
        server.server_close()
