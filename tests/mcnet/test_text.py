import pytest

from mcnet.text import normalize_email, normalize_kana, normalize_phone, normalize_postal_code


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ｘyz＠ｇmail．com", "xyz@gmail.com"),
        ("ＡＢＣ＠Ｇｍａｉｌ．ｃｏｍ", "abc@gmail.com"),
        ("  ABC@Gmail.com ", "abc@gmail.com"),
    ],
)
def test_email_is_nfkc_and_lower_case(typed, stored):
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["０２５−１１１−１１１１", "025ー111ー1111", "025‐111‐1111", "０２５－１１１－１１１１"],
)
def test_phone_accepts_any_width_and_any_hyphen(typed):
    assert normalize_phone(typed) == "025-111-1111"


@pytest.mark.parametrize("typed", ["９４３１１１１", "943-1111", "９４３ー１１１１", "〒943−1111"])
def test_postal_code_is_seven_digits_with_one_hyphen(typed):
    assert normalize_postal_code(typed) == "943-1111"


@pytest.mark.parametrize("typed", ["やまだ はなこ", "ﾔﾏﾀﾞ ﾊﾅｺ", "ヤマダ ハナコ"])
def test_kana_is_stored_as_full_width_katakana(typed):
    assert normalize_kana(typed) == "ヤマダ ハナコ"
