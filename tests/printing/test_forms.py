"""Every form renders to A4 with embedded Japanese fonts and the rules' own wording (別紙1–7).

The wording is checked against the seed (mcnet-rules.ja.txt): each key line must be found in
the seed and in the PDF's text (pdftotext), both normalized (NFKC, no whitespace) so line
breaks and full/half-width forms do not matter.
"""

from unittest import mock

import pytest

from mcnet.models import NetworkSettings
from mcnet.printing import registry
from mcnet.printing.renderer import render_pdf

from . import pdf

# Key lines of each form, as the seed words them (with the default network settings).
WORDING = {
    "besshi1": [
        "MCネット利用申込書",
        "上越医師会会長殿",
        "本事業所において、MCネットを利用した情報共有を行いたいので、申し込みます。",
        "事業所管理者メールアドレス",
        "※複数のスタッフでのメールアドレスの共有はセキュリティ上認められません。",
        # Note 2 follows the portal's flow (the roster is filed on the portal, not mailed).
        "上越地域在宅医療推進センターでまとめて登録します。",
        "【提出先】",
        "TEL:025-520-7500FAX:025-520-8686",
        "メール:aizawa@ganginet.jp",
    ],
    "besshi2": [
        "MCネット利用に係る連携守秘誓約書",
        "上越医師会会長殿",
        "(連携情報保持の誓約)",
        "第1条私は、MCネットを利用する事業所の管理者として、MCネットを利用する従事者が法令",
        "特定の個人を識別することができるものを含みます。",
        "(3)その他業務に関連して知り得た情報(業務に関連して第三者から提供された情報を含みます。)",
        "(連携情報の管理等)",
        "第2条私は、従事者が連携情報(紙媒体のものだけでなく、電子データも含みます。)を使用するにあたって、連携情報を許可なく複写したり、外部に持ち出したり、又は外部に送信したりしないように監督します。",
        "また、許可を得た機器に保存されている情報については、業務上不要となった時点で速やかに消去するものとします。",
        "3私は、従事者に対して個人情報保護やIT機器のセキュリティについて教育を実施します。",
        "(利用目的外での使用の禁止)",
        "第3条私は、当該情報を連携業務以外で利用しないものとし、患者その他の第三者のプライバシー、その他の権利を侵害するような行為を一切しないものとします。",
        "(退職後の業務情報保持の誓約)",
        "第4条私は、連携を離脱した後も、業務情報の一切を、許可なく、開示、漏えい又は使用しないことを誓約します。",
        "(その他)",
        "第5条私は、本誓約書の各条の規定に違反した場合、誠意をもって協議致します。",
    ],
    "besshi3": [
        "【書面の送信及び申し込みはメールにて行います。】",
        "MCネット一括登録代行申込書(メール申し込み)",
        "記載されたスタッフは、MCSの利用規約(MCネット運用規程)について同意し申請します。",
        "申し込み日:",
        "施設情報",
        "スタッフ情報",
        "施設の種類",
        "*1:MCS管理者は、各施設ごとに原則1名設定してください。",
        "*2:MCSにすでに登録し利用されている方は「有」と記入してください。",
        "メールアドレスは、セキュリティの観点からも、おひとりに1つご用意をお願い致します。",
    ],
    "besshi4": [
        "MCネット利用登録変更・中止届書",
        "本事業所において、MCネット利用者の変更(追加登録・削除)を行いましたので、以下のとおり通知いたします。",
        "下記に「MCネット」に追加登録された方あるいは削除された方をご記入下さい。",
        "※氏名欄の(追加・削除)のいずれかに〇をつけてください。",
        "追加登録・削除者名",
        "事業所管理者氏名",
    ],
    "besshi5": [
        "ご利用者・ご家族様へ",
        "を活用しましょう",
        "MCネットってなぁに?",
        "『MCネット』は、利用者様1名ごとに上越・妙高地域の病院・診療所、訪問看護ステーション、薬局、介護事業所等の担当者が、利用者様が在宅で必要な医療・介護サービスを円滑に利用するための情報を共有する仕組みです。",
        "共有する情報の例",
        "写真・動画も共有可能",
        "■同意書を提出いただいた場合であっても、いつでも同意を撤回することができます。なお、同意をされなかった場合や途中で同意を撤回した場合でも、今後の診療や介護サービスを受ける上で何ら不利益を被ることはありません。",
        "MCネットで医療や介護情報を閲覧することができるのは、そのご利用者様に関わる医療機関・事業所だけに限られます。",
        "(3)利用目的終了後、ご利用者様の個人情報は削除します。",
        "TEL025-520-7500",
    ],
    "besshi6": [
        "個人情報保護基本方針(プライバシーポリシー)",
        "個人情報の取り扱い",
        "個人情報の第三者への開示・提供の禁止",
        "・法令に基づき開示することが必要である場合",
        "ご本人の照会",
        "対象者さまが個人情報の照会・修正・削除などをご希望される場合には、ご本人であることを確認のうえ、対応させていただきます。",
        "法令、規範の遵守と見直し",
        "https://www.medical-care.net/misc/privacy",
        "令和3年9月1日",
        "営業時間:原則として、平日9:00-16:00(土・日曜・祝日は休業)",
    ],
    "besshi7": [
        "MCネット利用についての同意書",
        "私は、下記の担当者より「MCネット」について説明を受け、その目的や情報共有の仕方について理解しました。",
        "私の医療・介護に携わる方々が、私の医療・介護情報を正しく活用することに同意します。",
        "<対象となる方が記入する欄>",
        "※対象となる方が記入できない場合は家族または代理人の方が記入して下さい。",
        "<ご家族又は代理人の方が記入する欄>",
        "<説明した人>",
        "書類取扱者の方へ",
        "2部作成し、1部は事業所管理者で保管、もう1部は対象者さまに本人控えとしてお渡しください。",
        "自筆サインであれば印不要",
    ],
}
# Lines of forms the rules name but give no original for (the take-out request, 第12条(9)):
# checked against the article's own wording.
TAKEOUT_RULE = [
    "事業所より情報及び情報機器を持ち出す場合には、持ち出す情報の内容、格納する媒体、持ち出す目的、期間等を書式でMCS管理者に届け出て、承認を得ること。",
    "ユーザー個人所有の端末を業務で使用する(BYOD)場合には、紛失時等の情報漏洩リスクを考慮し、(9)と同様の運用を行うものとする。",
]
# Pages of each form filled with the sample data.
PAGES = {
    "besshi1": 1,
    "besshi2": 1,
    "besshi3": 1,
    "besshi4": 1,
    "besshi5": 2,
    "besshi6": 2,
    "besshi7": 2,
    "besshi7_addendum": 2,
    "academic_use": 2,
    "team_notice": 1,
    "leak_report": 1,
    "takeout": 1,
    "staff_pledge": 1,
}


def render(code: str, context: dict | None = None, **options) -> bytes:
    spec = registry.get(code)
    return render_pdf(spec.template, context or spec.sample_context(**options))


@pytest.fixture(scope="module")
def samples(django_db_setup, django_db_blocker):
    """Each form rendered once with the sample data and the network's default settings; the
    texts of 別紙2, 5, 6, 7 and the staff pledge are version 1 of the rules (the data
    migration's, read from the test database)."""
    with (
        django_db_blocker.unblock(),
        mock.patch.object(NetworkSettings, "load", return_value=NetworkSettings()),
    ):
        return {code: render(code) for code in registry.FORM_CODES}


def test_the_key_lines_are_the_seeds_own():
    seed = pdf.seed()
    missing = [
        line for lines in WORDING.values() for line in lines if pdf.normalize(line) not in seed
    ]
    missing += [line for line in TAKEOUT_RULE if pdf.normalize(line) not in seed]
    assert not missing


@pytest.mark.parametrize("code", sorted(WORDING))
def test_form_prints_the_rules_wording(samples, code):
    text = pdf.normalize(pdf.text(samples[code]))
    missing = [line for line in WORDING[code] if pdf.normalize(line) not in text]
    assert not missing, f"{code} lacks: {missing}"
    assert "\ufffd" not in pdf.text(samples[code])


def test_takeout_request_quotes_article_12(samples):
    text = pdf.normalize(pdf.text(samples["takeout"]))
    for line in [
        *TAKEOUT_RULE,
        "持ち出す情報の内容",
        "格納する媒体",
        "持ち出す目的",
        "期間",
        "承認",
        "却下",
    ]:
        assert pdf.normalize(line) in text, line
    # The sample's dates, in the Japanese era.
    assert "令和8年12月1日" in text and "令和9年3月31日" in text


@pytest.mark.parametrize("code", registry.FORM_CODES)
def test_form_is_a4_with_an_embedded_japanese_subset_font(samples, code):
    assert pdf.font_problems(samples[code]) == []
    names = [font.name for font in pdf.fonts(samples[code])]
    # The subset prefix (ABCDEF+) shows the font was subset, not embedded whole.
    assert any(name.split("+", 1)[-1].startswith("IPAex") and "+" in name for name in names)
    assert pdf.page_count(samples[code]) == PAGES[code]


@pytest.mark.parametrize("code", registry.FORM_CODES)
def test_page_size_is_a4(samples, code):
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(samples[code])
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True).stdout
    assert "(A4)" in info


def test_seal_marks_where_the_originals_have_them(samples):
    for code in ("besshi1", "besshi2", "besshi4", "takeout"):
        assert "印" in pdf.text(samples[code]), code
    assert pdf.text(samples["besshi7"]).count("㊞") == 4  # patient and family, two copies


def test_besshi7_is_two_copies_marked_and_filled(samples):
    pages = pdf.pages(samples["besshi7"])
    assert len(pages) == 2
    marks = [
        {line.strip() for line in page.splitlines()} & {"事業所控え", "本人控え"} for page in pages
    ]
    assert marks == [{"事業所控え"}, {"本人控え"}]  # the mark of each copy, a line of its own
    for page in pages:
        text = pdf.normalize(page)
        assert pdf.normalize("MCネット利用についての同意書") in text
        for value in (
            "見本太郎",
            "新潟県○○市本町1-2-3",
            "見本花子",
            "長女",
            "みどり居宅介護支援事業所",
            "025-222-2222",
            "緑川一郎",
            "令和8年11月23日",
        ):
            assert pdf.normalize(value) in text, value


def test_dates_in_the_japanese_era_and_blank_to_fill_in(samples, db):
    assert "令和8年11月23日" in pdf.text(samples["besshi1"])
    blank = registry.get("besshi1").blank_context()
    assert blank["date"] == "令和\u3000年\u3000月\u3000日"
    text = pdf.text(render("besshi1", blank))
    assert "令和\u3000年\u3000月\u3000日" in text or pdf.normalize(
        "令和 年 月 日"
    ) in pdf.normalize(text)
    assert "令和8年" not in text


def test_besshi3_lists_every_staff_row_over_several_pages_with_the_header_repeated(db):
    document = render("besshi3", staff_count=80)
    pages = pdf.pages(document)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        text = pdf.normalize(page)
        for header in ("施設情報", "スタッフ情報", "MCSID(メールアドレス)", "管理者*1"):
            assert pdf.normalize(header) in text, f"page {number} lacks the header {header}"
    everything = pdf.text(document)
    for n in range(6, 81):
        assert f"staff{n:03d}@example.jp" in everything
    assert pdf.font_problems(document) == []


def test_network_name_and_center_contact_come_from_the_settings(db):
    """Nothing about Joetsu is written in a template: another network prints its own."""
    from django.core.cache import cache

    network = NetworkSettings.load()
    network.name = "みほんネット"
    network.operator = "見本市医師会"
    network.operator_head_title = "見本市医師会 会長"
    network.center_name = "見本地域在宅医療連携センター"
    network.center_postal_code = "100-0001"
    network.center_address = "見本市中央1-1-1"
    network.center_phone = "03-0000-0000"
    network.center_fax = "03-0000-0001"
    network.center_email = "center@mihon.example.jp"
    network.center_hours = "平日 10:00-15:00"
    network.center_contact_person = "見本"
    network.region_name = "見本地域"
    network.save()
    cache.clear()
    for code in registry.FORM_CODES:
        for context in (registry.get(code).sample_context(), registry.get(code).blank_context()):
            text = pdf.text(render(code, context))
            for joetsu in (
                "上越",
                "妙高",
                "春日野",
                "aizawa",
                "ganginet",
                "025-520",
                "943-8555",
                "相澤",
                "MC ネット",
                "ＭＣネット",
            ):
                assert joetsu not in text, f"{code} prints {joetsu!r}"
            if code != "takeout" or "みほんネット" in text:
                assert "みほんネット" in text, code
    besshi1 = pdf.normalize(pdf.text(render("besshi1")))
    for value in (
        "見本市医師会会長殿",
        "見本地域在宅医療連携センター",
        "03-0000-0000",
        "center@mihon.example.jp",
    ):
        assert pdf.normalize(value) in besshi1
    besshi6 = pdf.normalize(pdf.text(render("besshi6")))
    assert pdf.normalize("営業時間：平日 10:00-15:00") in besshi6
    assert pdf.normalize("利用者様1名ごとに見本地域の病院") in pdf.normalize(
        pdf.text(render("besshi5"))
    )
