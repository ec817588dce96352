from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.urls import reverse

from consents.models import Patient
from facilities.models import Facility, User
from groups.models import Group
from mcnet.demo import DEMO_PASSWORD, LOGINS, load_demo


class Command(BaseCommand):
    help = "Load the demo network (idempotent) and print a short summary and the demo logins."

    def handle(self, *args, **options):
        # The demo's own mails (invitations, notices) are counted, not printed: a newcomer
        # should see the logins, not screens of encoded headers. Mail sent while the demo is
        # served still goes to the console.
        earlier = getattr(mail, "outbox", None)
        mail.outbox = []
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            load_demo()
        sent = len(mail.outbox)
        if earlier is None:
            del mail.outbox
        else:
            mail.outbox = earlier + mail.outbox
        base = settings.MCNET_BASE_URL.rstrip("/")
        self.stdout.write(self.style.SUCCESS("デモデータを読み込みました / demo data loaded"))
        self.stdout.write(
            f"  事業所 {Facility.objects.count()} / 利用者 {User.objects.count()} / "
            f"患者 {Patient.objects.count()} / 連携グループ {Group.objects.count()} / "
            f"送信したメール {sent} 通（表示は省略）"
        )
        self.stdout.write(f"\nデモのログイン（パスワードはすべて {DEMO_PASSWORD}）:")
        for email, label in LOGINS:
            self.stdout.write(f"  {email:<28} {label}")
        self.stdout.write("\nページ:")
        for label, name in (
            ("ログイン", "account_login"),
            ("利用申込（アカウント不要）", "enrollment:apply"),
            ("センターのダッシュボード", "dashboard:index"),
            ("センターの管理画面", "admin:index"),
        ):
            self.stdout.write(f"  {label}: {base}{reverse(name)}")
