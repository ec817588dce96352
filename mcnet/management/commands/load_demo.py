from django.core.management.base import BaseCommand

from mcnet.demo import DEMO_PASSWORD, LOGINS, load_demo


class Command(BaseCommand):
    help = "Load the demo network (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        load_demo()
        self.stdout.write(self.style.SUCCESS("デモデータを読み込みました / demo data loaded"))
        self.stdout.write(f"\nデモのログイン（パスワードはすべて {DEMO_PASSWORD}）:")
        for email, label in LOGINS:
            self.stdout.write(f"  {email:<28} {label}")
