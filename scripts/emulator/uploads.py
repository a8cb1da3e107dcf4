"""DashScope's file-upload handshake, answered and recorded: the SDK's ``MultiModalConversation``
uploads a local file it is given (``/path``, ``file://...``) to OSS before calling the model:
``GET /api/v1/uploads?action=getPolicy&model=...`` for a policy, then a form POST to the policy's
``upload_host`` (here the emulator itself), then ``oss://<key>`` in the message. Every step is kept
in ``Emulator.uploads`` so that tests can assert that none was ever made (or that one was)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from flask import Request, Response, jsonify

from .errors import Refusal

OSS_PATH = "/_emulator/oss"
MEDIA_KINDS = ("image", "video", "audio")
BAD_URL_MESSAGE = "The provided URL does not appear to be valid. Ensure it is correctly formatted."


class UploadRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._keys: set[str] = set()

    @property
    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._keys.clear()

    def holds(self, oss_url: str) -> bool:
        """Whether an ``oss://`` URL names a file uploaded here."""
        with self._lock:
            return oss_url.removeprefix("oss://") in self._keys

    def check_media(self, messages: list[dict[str, Any]], request: Request) -> None:
        """DashScope's 400 for a media URL it cannot fetch: http(s), data: and (with the SDK's
        resolve header) an ``oss://`` URL uploaded here are the ones it reaches."""
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            for part in content if isinstance(content, list) else []:
                for kind in MEDIA_KINDS:
                    value = part.get(kind) if isinstance(part, dict) else None
                    for url in value if isinstance(value, list) else [value] if value is not None else []:
                        if not self._reachable(url, request):
                            raise Refusal(400, "InvalidParameter", BAD_URL_MESSAGE)

    def _reachable(self, url: Any, request: Request) -> bool:
        if not isinstance(url, str):
            return False
        if url.startswith("oss://"):
            return request.headers.get("X-DashScope-OssResourceResolve") == "enable" and self.holds(url)
        return url.startswith(("http://", "https://", "data:"))

    def _keep(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records.append(record)

    def policy(self, request: Request, api_key: str) -> Response:
        request_id = str(uuid.uuid4())
        self._keep({
            "step": "getPolicy", "request_id": request_id, "api_key": api_key, "path": request.path,
            "query": dict(request.args), "received_at": time.monotonic(),
        })
        if not api_key:
            response = jsonify({"code": "InvalidApiKey", "message": "No API-key provided.", "request_id": request_id})
            response.status_code = 401
            return response
        directory = f"dashscope-instant/emulator/{time.strftime('%Y-%m-%d')}/{uuid.uuid4().hex[:12]}"
        return jsonify({
            "request_id": request_id,
            "data": {
                "policy": "emulated-policy", "signature": "emulated-signature", "upload_dir": directory,
                "upload_host": request.host_url.rstrip("/") + OSS_PATH, "expire_in_seconds": 300,
                "max_file_size_mb": 100, "capacity_limit_mb": 999999999,
                "oss_access_key_id": "emulated-access-key-id", "x_oss_object_acl": "private",
                "x_oss_forbid_overwrite": "true",
            },
        })

    def store(self, request: Request) -> Response:
        upload = request.files.get("file")
        key = request.form.get("key", "")
        content = upload.read() if upload else b""
        self._keep({
            "step": "upload", "path": request.path, "key": key, "filename": upload.filename if upload else None,
            "size": len(content), "content_type": request.form.get("x-oss-content-type"),
            "received_at": time.monotonic(),
        })
        with self._lock:
            self._keys.add(key)
        return Response(status=200)
