"""別紙5 ご利用者・ご家族様へのご案内（リーフレット）: the text in force, in its pages and
sections; printed blank only (nobody's data)."""

from mcnet.rulebook import text as rule_texts

from .base import form, rule_text


def context(*, date=None) -> dict:
    rules = rule_text("besshi5", on=date)
    pages = [rule_texts.sections(page) for page in rule_texts.pages(rules.pop("blocks"))]
    return form("besshi5", rules=rules, pages=pages)


def blank() -> dict:
    return context()
