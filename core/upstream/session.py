"""The HTTP session every DashScope call goes through."""

from __future__ import annotations

import os

import requests
import requests.utils
from requests.adapters import HTTPAdapter

# Connections kept per host: one per concurrently running call, so a burst does not reconnect.
CONNECTION_POOL_SIZE = 256


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
    session = requests.Session()
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(base_url)
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=CONNECTION_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
