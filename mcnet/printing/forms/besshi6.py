"""別紙6 個人情報保護基本方針: the policy in force; printed blank only (nobody's data)."""

from .base import form, rule_text


def context(*, date=None) -> dict:
    # Dated the day its version took effect (version 1: 令和3年9月1日, 附則).
    rules = rule_text("besshi6", on=date)
    return form("besshi6", rules=rules, policy_date=rules["effective_on"])


def blank() -> dict:
    return context()
