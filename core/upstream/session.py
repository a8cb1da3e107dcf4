"""The HTTP session every DashScope call goes through."""

from __future__ import annotations

import http.cookiejar
import os
from typing import Any

import requests
import requests.utils
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest
from requests.structures import CaseInsensitiveDict

from core.upstream.read_deadline import POOL_CLASSES

# Connections kept per host: one per concurrently running call, so a burst does not reconnect.
CONNECTION_POOL_SIZE = 256


class DashScopeSession(requests.Session):
    """requests' Session, with a short way through for the one request the SDK makes per call.

    The SDK sends each call as `session.post(url, data=<JSON bytes>, headers=..., stream=...,
    timeout=...)`. For that request, `Session.request` spends about 120 µs of CPU (a third of the
    SDK's whole call, measured in scripts/benchmark) merging settings this session does not have:
    cookies, auth, hooks, params, proxies from the environment (read once here instead), and
    redirects, which DashScope does not send (one that comes anyway is sent again, the full way).
    This takes the short way for exactly that request: the same adapter sends it (so TLS, the
    connection pool, timeouts and the exceptions the SDK and core/upstream/sdk.py expect are all
    requests' own), the session's headers are merged under the SDK's as requests merges them, and
    response hooks run. Anything else (a form upload, a GET with params, a proxy to go through)
    takes requests' full way.

    What the short way leaves out on purpose: cookies. DashScope's gateway may set one, and a
    session shared by every caller of the function should not send one caller's cookie with the
    next caller's call (`pooled_session` makes the full way keep none either).
    """

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        data = kwargs.get("data")
        if args or self.proxies or not isinstance(url, str) or not isinstance(data, (bytes, type(None))) \
                or kwargs.get("json") is not None or kwargs.keys() - _SHORT_WAY_ARGUMENTS:
            return super().request(method, url, *args, **kwargs)
        prepared = PreparedRequest()
        prepared.method = method.upper() if isinstance(method, str) else method.decode().upper()
        prepared.url = url
        headers = CaseInsensitiveDict(self.headers)
        headers.update(kwargs.get("headers") or {})
        if data is not None:
            headers["Content-Length"] = str(len(data))
        prepared.headers = headers
        prepared.body = data
        prepared.hooks = {"response": []}
        stream = bool(kwargs.get("stream"))
        response = self.get_adapter(url).send(prepared, stream=stream, timeout=kwargs.get("timeout"), verify=self.verify,
                                              cert=self.cert, proxies={})
        if response.is_redirect:
            # Rare (DashScope sends none; a gateway might): sent again requests' full way, which follows
            # it as it always did (a 3xx means the call was not taken; the key kept only on the same host).
            response.close()
            return super().request(method, url, **kwargs)
        for hook in self.hooks["response"]:
            response = hook(response) or response
        if not stream:
            response.content  # noqa: B018 - read the body now, as requests does, so the connection goes back to the pool
        return response


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter, its connections' responses read within the call's deadline (read_deadline.py)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager).__name__ == "ProxyManager":  # a SOCKS proxy's pools have their own connections
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager


# The arguments the SDK's call passes (`post` adds json=None): a request with nothing else takes the short way.
_SHORT_WAY_ARGUMENTS = {"data", "json", "headers", "stream", "timeout"}


def pooled_session(base_url: str) -> requests.Session:
    """The one HTTP session every DashScope call goes through, with what the environment says about
    reaching `base_url` settled now, once.

    By default requests re-reads the environment on every call (`trust_env`): it walks every
    variable for proxy settings and looks for ~/.netrc, which measured 0.4 ms a call with 35
    variables and 0.7 ms with 75 (FC sets dozens). The proxies (HTTPS_PROXY, NO_PROXY, ...) and CA
    bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) it would have found are read here instead, for the
    one host this session calls. .netrc is not read at all: an entry for DashScope's host would
    have replaced the API key with its password.
    """
    session = DashScopeSession()
    session.trust_env = False
    # No cookie is ever kept: the full way (through a proxy, after a redirect) would otherwise send a
    # gateway's cookie from one caller's call with every later caller's, as the short way never does.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    proxies = requests.utils.get_environ_proxies(base_url)
    # Kept only when one applies to `base_url`: NO_PROXY alone reads as {"no": ...}, an HTTPS_PROXY
    # does not apply to an http:// upstream, and any proxy kept sends every call requests' full way.
    session.proxies = proxies if requests.utils.select_proxy(base_url, proxies) else {}
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=CONNECTION_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
