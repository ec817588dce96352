"""Who may change the rules (第14条, 第15条)."""

from mcnet.permissions import is_center_staff


def may_publish_network_rules(user) -> bool:
    """第15条: the center records what the council approved; nobody else changes the
    network's rules (a facility's own rules are its manager's, 第14条)."""
    return is_center_staff(user)
