"""gunicorn's settings for the portal, read from the working directory (/app in the image; the
repository root for `make bench` and the tests), beside the command line's --bind/--workers.

No `Server: gunicorn` header: a product name (and, from there, its known flaws) is nothing a
stranger needs to know. gunicorn has no setting for it, so the header is dropped from the
response's default headers here, in the master before it forks its workers.
"""

from gunicorn.http import wsgi as _gunicorn_wsgi

_default_headers = _gunicorn_wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


if (
    getattr(_gunicorn_wsgi.Response.default_headers, "__name__", "")
    != "_default_headers_without_server"
):
    _gunicorn_wsgi.Response.default_headers = _default_headers_without_server
