"""Every URL pattern of the portal, by name (or by route for the unnamed ones)."""

from django.urls import URLPattern, URLResolver, get_resolver


def all_url_patterns() -> list[tuple[str, str]]:
    """(key, route) for every pattern; the key is 'namespace:name' or the route itself."""
    found = []

    def walk(patterns, prefix="", namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = namespace
                if pattern.namespace:
                    ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                key = route
                if pattern.name:
                    key = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.append((key, route))

    walk(get_resolver().url_patterns)
    return found
