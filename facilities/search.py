"""One normalization for what is stored for search and what is searched for.

Kana are compared as full-width katakana (ひらがな, カタカナ and ｶﾀｶﾅ are one), digits and Latin
letters as half-width lower case, and spaces are dropped: 「やまだ はなこ」, 「ﾔﾏﾀﾞﾊﾅｺ」 and
「ヤマダ　ハナコ」 are the same key.
"""

from mcnet.text import normalize_kana


def search_key(value: str) -> str:
    return normalize_kana(value or "").replace(" ", "").replace("\u3000", "").lower()
