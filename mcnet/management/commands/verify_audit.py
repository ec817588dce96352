from django.core.management.base import BaseCommand, CommandError

from mcnet.audit import access_log_pending, verify_chain
from mcnet.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain; report the first broken link (exit 1). Access-log "
        "records still waiting for their seal are counted, not checked: they are not chained yet."
    )

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
        pending = access_log_pending()
        if pending:
            self.stdout.write(
                f"封印待ちの閲覧記録 / access-log records awaiting their seal: {pending} "
                "(sealed into the chain by mcnet.tasks.seal_access_log)"
            )
