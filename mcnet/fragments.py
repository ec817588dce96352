"""Parts of a page rendered once for the data they show (rendering the rows of the
group list was most of that page's time).

The cache key is a digest of the template's source, the language and everything the fragment
shows (`shows`), so any change of what it shows is a new key: nothing to invalidate, nothing
stale. A fragment therefore shows only what `shows` names: no CSRF token, no request, no user
beyond what the caller puts in `shows`. With Redis down it is simply rendered every time.
"""

import functools
import hashlib
import logging

from django.core.cache import cache
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from redis.exceptions import RedisError

from .notifications import batched
from .pagecache import PREFIX as PAGE_PREFIX

logger = logging.getLogger(__name__)

# Long enough for a user's repeated views of a page, short enough that the copies of every
# user's rows (about 15 KB for 50 groups) do not pile up in Redis: the users active in ten
# minutes, not those of an hour.
TTL_SECONDS = 10 * 60


@functools.cache
def _source_digest(template_name: str) -> str:
    return hashlib.sha256(get_template(template_name).template.source.encode()).hexdigest()


PREFIX = "fragment:"


def render_fragment(template_name: str, context: dict, *, shows) -> SafeString:
    key_material = repr((_source_digest(template_name), get_language(), shows))
    key = PREFIX + hashlib.sha256(key_material.encode()).hexdigest()
    html = cache.get(key)
    if html is None:
        html = render_to_string(template_name, context)
        cache.set(key, html, TTL_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there


def fragments_forget() -> int:
    """Delete every cached fragment and every cached page (mcnet.pagecache): a patient's
    personal data was erased (別紙6), and the erased name must not stay in a rendered copy
    either. Their keys changed with the data already (a new digest; the members' page
    generations), so nothing would show them again, and they would expire within their TTL;
    this removes them now. Cheap and rare (an erasure), so all go rather than tracking whose
    is whose. With Redis down they simply expire."""
    return _forget(PREFIX) + _forget(PAGE_PREFIX)


def _forget(prefix: str) -> int:
    pattern = cache.make_key(prefix + "*")
    try:
        backend = getattr(cache, "_cache", None)
        if hasattr(backend, "get_client"):  # Django's RedisCache (mcnet.cache)
            client = backend.get_client(write=True)
            count = 0
            for keys in batched(client.scan_iter(match=pattern, count=1000), 1000):
                count += client.delete(*keys)
            return count
    except RedisError as exc:
        logger.warning("cached fragments not deleted (%s); they expire by themselves", exc)
        return 0
    if isinstance(backend, dict):  # LocMemCache (tests, the demo)
        with cache._lock:
            keys = [key for key in backend if key.startswith(pattern[:-1])]
            for key in keys:
                cache._delete(key)
        return len(keys)
    return 0
