"""gunicorn 27 opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl), shared by
every instance started: the function serves nothing through it, so gunicorn.conf.py turns it off."""

from __future__ import annotations

import pytest

from scripts.fc_process import start_like_fc, stop
from tests.conftest import function_env

pytestmark = pytest.mark.server


def test_no_control_socket_is_opened(emulator, tmp_path):
    process, _url = start_like_fc(function_env(emulator, HOME=str(tmp_path)))
    output = stop(process)
    assert "Control socket" not in output, output
    assert not (tmp_path / ".gunicorn").exists()
