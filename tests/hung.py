"""A server that hangs: it accepts connections (the kernel completes the handshake from the
listen backlog) and never answers, as a Redis frozen by SIGSTOP does. Quick and harmless, so
it runs in every test run; tests/load/test_faults.py freezes a real redis-server."""

import socket
from contextlib import contextmanager

import pytest


@contextmanager
def hung_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # never accepted: connects succeed, reads wait forever
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def hung_redis_url():
    with hung_port() as port:
        yield f"redis://127.0.0.1:{port}/0"
