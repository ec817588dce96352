"""{% rule_text "besshi2" as blocks %}: the text of a document on a page, in the version given
(the one agreed to) or the version in force today (第15条), placeholders filled."""

from django import template

from mcnet.models import NetworkSettings
from mcnet.rulebook import text
from mcnet.rulebook.selectors import version_in_force

register = template.Library()


@register.simple_tag
def rule_text(document: str, version=None) -> list[dict]:
    version = version or version_in_force(document)
    network = NetworkSettings.load()
    values = {field: getattr(network, field, "") for field in text.PLACEHOLDERS.values()}
    return text.fill(version.blocks, values)
