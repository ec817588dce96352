"""Parts of a page rendered once for the data they show (issue 9: rendering the rows of the
group list was most of that page's time).

The cache key is a digest of the template's source, the language and everything the fragment
shows (`shows`), so any change of what it shows is a new key: nothing to invalidate, nothing
stale. A fragment therefore shows only what `shows` names: no CSRF token, no request, no user
beyond what the caller puts in `shows`. With Redis down it is simply rendered every time.
"""

import functools
import hashlib

from django.core.cache import cache
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

# Long enough for a user's repeated views of a page, short enough that the copies of every
# user's rows (about 15 KB for 50 groups) do not pile up in Redis: the users active in ten
# minutes, not those of an hour.
TTL_SECONDS = 10 * 60


@functools.cache
def _source_digest(template_name: str) -> str:
    return hashlib.sha256(get_template(template_name).template.source.encode()).hexdigest()


def render_fragment(template_name: str, context: dict, *, shows) -> SafeString:
    key_material = repr((_source_digest(template_name), get_language(), shows))
    key = "fragment:" + hashlib.sha256(key_material.encode()).hexdigest()
    html = cache.get(key)
    if html is None:
        html = render_to_string(template_name, context)
        cache.set(key, html, TTL_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there
