from django.core.management.base import BaseCommand, CommandError

from mcnet.audit import verify_chain
from mcnet.models import AuditEvent


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; report the first broken link (exit 1)."

    def handle(self, *args, **options):
        broken = verify_chain()
        if broken is not None:
            raise CommandError(
                f"監査ログの連鎖が壊れています: event #{broken.pk} "
                f"({broken.created_at:%Y-%m-%d %H:%M:%S} {broken.action} {broken.object_repr}) — "
                "this event or the one before it was changed or removed"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"監査ログは改ざんされていません / audit trail intact ({AuditEvent.objects.count()} events)"
            )
        )
