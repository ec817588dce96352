"""別紙3 / 別紙4 rows: normalization, per-row messages naming row and column, set-based checks."""

import pytest

from enrollment.rows import (
    RowError,
    check_change_rows,
    check_roster_rows,
    parse_email,
    parse_flag,
    parse_gender,
    parse_occupation,
    validate_roster_rows,
)
from facilities.models import User

EMAIL = "MCS ID（メールアドレス）"


def row(**values):
    base = {"name": "山田花子", "gender": "女", "occupation": "医師", "email": "abc@gmail.com"}
    return {**base, **values}


def test_full_width_address_is_normalized_first():
    assert parse_email("ｘyz＠ｇmail．com") == ("xyz@gmail.com", None)
    assert parse_email("  ABC@Example.JP ") == ("abc@example.jp", None)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("ｘyz＠ｇmail", "ドメインが不完全"),
        ("xyz.gmail.com", "「@」がありません"),
        ("a@b@c.jp", "「@」が複数あります"),
        ("a b@c.jp", None),  # spaces are removed by the normalization: valid
        ("a,b@c.jp", "使えない文字"),
    ],
)
def test_still_invalid_after_normalization_says_so(raw, fragment):
    _address, error = parse_email(raw)
    if fragment is None:
        assert error is None
    else:
        assert fragment in error
        assert "メールアドレスの形式ではありません" in error


def test_the_seeds_second_row_names_the_normalized_address():
    _address, error = parse_email("ｘyz＠ｇmail")
    assert "「ｘyz＠ｇmail」を半角に直した「xyz@gmail」" in error


@pytest.mark.parametrize("mark", ["〇", "○", "◯", "有", "あり", "はい", "ｙｅｓ", "1", "✓", True])
def test_paper_marks_read_as_yes(mark):
    assert parse_flag(mark) == (True, None)


@pytest.mark.parametrize("mark", ["", None, "無", "なし", "×", "-", "0", False])
def test_blank_and_no_marks_read_as_no(mark):
    assert parse_flag(mark) == (False, None)


def test_an_unreadable_mark_is_an_error():
    value, error = parse_flag("たぶん")
    assert value is False and "読み取れません" in error


@pytest.mark.parametrize(
    ("spelling", "code"),
    [("女", "female"), ("女性", "female"), ("男", "male"), ("Ｍ", "male"), ("", "unspecified")],
)
def test_gender_spellings(spelling, code):
    assert parse_gender(spelling) == (code, None)


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("医師", "doctor"),
        ("看護師", "nurse"),
        ("Ｎｓ", "nurse"),
        ("ケアマネ", "care_manager"),
        ("介護支援専門員", "care_manager"),
        ("ＰＴ", "physical_therapist"),
        ("nurse", "nurse"),
    ],
)
def test_occupation_spellings(spelling, code):
    assert parse_occupation(spelling) == (code, None)


def test_center_staff_is_not_a_facility_occupation():
    assert parse_occupation("センター職員")[1] is not None


def test_row_error_names_row_and_column():
    error = RowError(2, EMAIL, "だめです。")
    assert str(error) == "2行目・MCS ID（メールアドレス）: だめです。"
    assert error.for_console() == "row 2, MCS ID（メールアドレス）: だめです。"


@pytest.mark.django_db
def test_seed_example_first_row_accepted_second_rejected():
    check = check_roster_rows(
        [
            row(is_mcs_admin="〇"),
            row(
                name="上越一",
                gender="男",
                occupation="看護師",
                email="ｘyz＠ｇmail",
                had_mcs_account="有",
            ),
        ]
    )
    first, second = check.rows
    assert first.errors == []
    assert first.values == {
        "name": "山田花子",
        "gender": "female",
        "occupation": "doctor",
        "email": "abc@gmail.com",
        "is_mcs_admin": True,
        "had_mcs_account": False,
    }
    assert [(e.row, e.column) for e in second.errors] == [(2, EMAIL)]
    assert str(second.errors[0]).startswith("2行目・MCS ID（メールアドレス）: ")
    assert not check.is_valid


@pytest.mark.django_db
def test_every_message_names_its_row_and_column():
    check = check_roster_rows(
        [
            row(),
            row(name="", gender="?", occupation="魔法使い", email="", is_mcs_admin="かも"),
        ]
    )
    messages = [str(e) for e in check.errors]
    assert len(messages) == 5
    for column in ("名前", "性別", "職種", "MCS ID（メールアドレス）", "管理者（*1）"):
        assert any(m.startswith(f"2行目・{column}: ") for m in messages), column


@pytest.mark.django_db
def test_same_address_twice_in_one_request_is_an_error_case_insensitive():
    check = check_roster_rows(
        [row(), row(name="別人", email="ＡＢＣ@Gmail.com"), row(name="三人目", email="c@d.jp")]
    )
    assert [(e.row, e.column) for e in check.errors] == [(2, EMAIL)]
    assert "1行目と同じメールアドレス" in check.errors[0].message


@pytest.mark.django_db
def test_address_of_another_person_in_the_network_is_an_error(demo):
    # doctor@abc.example.jp is 山田花子 already: another name with her address is refused.
    check = check_roster_rows([row(name="山田太郎", email="DOCTOR@abc.example.jp")])
    assert [(e.row, e.column) for e in check.errors] == [(1, EMAIL)]
    assert "別の方が使っています" in check.errors[0].message


@pytest.mark.django_db
def test_the_same_person_is_linked_to_their_one_account(demo):
    check = check_roster_rows(
        [row(name="山田　花子", email="doctor@abc.example.jp", is_mcs_admin="〇")]
    )
    assert check.is_valid
    assert check.rows[0].user_id == User.objects.get(email="doctor@abc.example.jp").pk


@pytest.mark.django_db
def test_address_waiting_on_another_paper_under_another_name_is_an_error(demo):
    # The demo's pending 別紙3 of ABC lists 春日山看子 with this address.
    check = check_roster_rows([row(name="誰か", email="kasugayama@abc.example.jp")])
    assert "別の方が使っています" in check.errors[0].message
    same = check_roster_rows([row(name="春日山看子", email="kasugayama@abc.example.jp")])
    assert same.is_valid


@pytest.mark.django_db
def test_no_or_several_mcs_administrators_are_flagged_not_refused():
    none = check_roster_rows([row()])
    assert none.is_valid and "1人も指定されていません" in none.warnings[0]
    two = check_roster_rows(
        [row(is_mcs_admin="〇"), row(name="二人目", email="x@y.jp", is_mcs_admin="有")]
    )
    assert two.is_valid and "2人指定されています" in two.warnings[0]
    one = check_roster_rows([row(is_mcs_admin="〇")])
    assert one.warnings == []


@pytest.mark.django_db
def test_blank_rows_are_skipped_and_numbering_follows_the_paper():
    check = check_roster_rows([row(), {"name": "", "email": ""}, row(name="三", email="bad")])
    assert [r.row for r in check.rows] == [1, 3]
    assert check.errors[0].row == 3


@pytest.mark.django_db
def test_an_empty_list_is_an_error():
    check = check_roster_rows([{"name": " ", "email": ""}])
    assert not check.is_valid and "1行以上" in str(check.errors[0])


@pytest.mark.django_db
def test_bench_hook_is_set_based(django_assert_max_num_queries, demo):
    """1,000 rows: correct, and a constant number of queries (the timing is make bench's)."""
    rows = [
        {
            "name": f"職員{i}",
            "gender": "女" if i % 2 else "男",
            "occupation": "看護師",
            "email": f"staff{i}@example.jp",
            "is_mcs_admin": "〇" if i == 0 else "",
        }
        for i in range(1000)
    ]
    rows[500]["email"] = "ｓｔａｆｆ１＠ｅｘａｍｐｌｅ．ｊｐ"  # a duplicate of row 2, full width
    with django_assert_max_num_queries(2):
        clean, errors = validate_roster_rows(rows)
    assert len(clean) == 1000
    assert [(e.row, e.column) for e in errors] == [(501, EMAIL)]


@pytest.mark.django_db
def test_change_rows_additions_and_deletions(takada):
    check = check_change_rows(
        [
            {
                "action": "追加",
                "kana": "ﾀｶﾀﾞ ｻﾌﾞﾛｳ",
                "name": "高田三郎",
                "occupation": "PT",
                "email": "saburo@takada.example.jp",
            },
            {"action": "削除", "email": "nurse@takada.example.jp"},
        ],
        facility=takada,
    )
    assert check.is_valid, [str(e) for e in check.errors]
    added, deleted = check.rows
    assert added.values["kana"] == "タカダ サブロウ"
    assert added.values["occupation"] == "physical_therapist"
    assert deleted.user_id == User.objects.get(email="nurse@takada.example.jp").pk


@pytest.mark.django_db
def test_change_rows_refuse_what_does_not_fit_the_facility(takada):
    check = check_change_rows(
        [
            {"action": "削除", "email": "doctor@abc.example.jp"},  # not 高田's
            {
                "action": "追加",
                "name": "高田看子",
                "occupation": "看護師",
                "email": "nurse@takada.example.jp",
            },  # already here
            {
                "action": "追加",
                "name": "別人",
                "occupation": "医師",
                "email": "doctor@abc.example.jp",
            },  # taken
            {"action": "どうする", "email": "x@y.jp"},
            {"action": "追加", "email": "z@y.jp"},  # no name, no occupation
        ],
        facility=takada,
    )
    by_row = {}
    for error in check.errors:
        by_row.setdefault(error.row, []).append(error.column)
    assert by_row == {
        1: ["メールアドレス"],
        2: ["メールアドレス"],
        3: ["メールアドレス"],
        4: ["追加・削除"],
        5: ["氏名", "職種"],
    }
    assert "登録されていません" in check.errors[0].message
    assert "既にこの事業所の利用者" in check.errors[1].message
