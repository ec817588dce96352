"""Normalizing what people type: the rules expect ASCII e-mail, phone and postal codes, but
Japanese keyboards produce full-width digits, ＠ and a zoo of hyphens."""

import re
import unicodedata

import jaconv

# Every dash a Japanese IME may produce for a hyphen in a phone number or postal code.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\u2043\ufe63\u02d7\u2500\uff70"
_DASH_RE = re.compile(f"[{_DASHES}]")


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def normalize_email(value: str) -> str:
    """The MCS ID: NFKC, trimmed and lower-cased, so ＡＢＣ＠ｇｍａｉｌ．ｃｏｍ == abc@gmail.com."""
    return nfkc(value).replace(" ", "").lower()


def normalize_phone(value: str) -> str:
    """Half-width digits and ASCII hyphens: ０２５−１１１−１１１１ → 025-111-1111."""
    return _DASH_RE.sub("-", nfkc(value)).replace(" ", "")


def normalize_postal_code(value: str) -> str:
    """Seven digits written 943-1111, whatever width or dash was typed."""
    digits = re.sub(r"\D", "", _DASH_RE.sub("-", nfkc(value)))
    if len(digits) == 7:
        return f"{digits[:3]}-{digits[3:]}"
    return _DASH_RE.sub("-", nfkc(value))


def normalize_kana(value: str) -> str:
    """Kana are stored as full-width katakana whatever was typed (hiragana, half-width)."""
    text = jaconv.h2z(nfkc(value), kana=True, digit=False, ascii=False)
    return jaconv.hira2kata(text)
