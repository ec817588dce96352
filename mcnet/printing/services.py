"""Every write about generated documents: asking for one, rendering it, failing, sweeping.

A request stores what the form will print and its hash; the same data asked again (a double
click, a second person) gives the same document. The render task claims the document, renders
it, and stores the file privately; a task run twice, or redelivered after its worker died
(acks_late), renders at most once more and never leaves two files.
"""

import datetime as dt
import hashlib
import json
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from functools import lru_cache

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Model, Q, TextField
from django.db.models.functions import Cast
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext as _

from mcnet.audit import AuditAction, audit_record
from mcnet.jobs import broker_forgot, enqueue
from mcnet.models import GeneratedDocument

from . import registry, tasks
from .renderer import RenderError, render_document, unprintable_warning, write_pdf

logger = logging.getLogger(__name__)
State = GeneratedDocument.State

# A live claim: the run rendering a document touches it (updated_at) every HEARTBEAT seconds,
# from a thread beside the rendering, and on every page of a batch. A document "rendering"
# untouched for CLAIM_LAPSES_AFTER has lost its worker (killed, its machine gone): the page
# says 「再開待ち」 and the sweep (every 20 s, settings) queues it again; so a worker killed
# mid-render costs well under a minute, not the broker's visibility timeout.
HEARTBEAT = 3.0
CLAIM_LAPSES_AFTER = dt.timedelta(seconds=15)
# A document whose runs were cut off this many times is failed, not queued once more (a form
# that kills its worker every time must not loop forever).
MAX_ATTEMPTS = 5
# A queued document whose publish failed (the broker was down) is queued again after this.
PUBLISH_RETRY_AFTER = dt.timedelta(seconds=15)
# A published message not picked up by then is published again. The broker's loss of its data
# (restarted without its files, flushed) is noticed sooner, at the next sweep
# (mcnet.jobs.broker_forgot); this catches the rest, e.g. a message a dead worker had reserved.
REPUBLISH_AFTER = dt.timedelta(minutes=3)
# Generated PDFs are copies of data kept elsewhere: deleted after a week, made again on demand.
KEEP_DOCUMENTS = dt.timedelta(days=7)
# Bump when the renderer changes what the same data prints (new documents get made).
RENDERER_VERSION = "2"  # 2: the font chains (IPAex, IPAmj, Noto CJK) and 〓 for the rest


# --- requesting ------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _template_fingerprint(template_name: str) -> str:
    """The templates' sources are part of a document's version: a new wording, a new PDF."""
    sources = [get_template(name).template.source for name in (template_name, "forms/_base.html")]
    sources.append(get_template("forms/forms.css").template.source)
    return hashlib.sha256("\0".join(sources).encode()).hexdigest()[:16]


def fingerprint(template_name: str, data) -> str:
    payload = json.dumps(
        {
            "renderer": RENDERER_VERSION,
            "template": _template_fingerprint(template_name),
            "data": data,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _publish(document_id: int) -> bool:
    """Queue the render; mark when the broker took it (the sweep retries the others)."""
    if not enqueue(tasks.render_document, document_id):
        return False
    GeneratedDocument.objects.filter(pk=document_id, state=State.QUEUED).update(
        published_at=timezone.now()
    )
    return True


def _publish_on_commit(document_id: int) -> None:
    transaction.on_commit(lambda: _publish(document_id))


def _request(
    *,
    actor,
    spec: registry.FormSpec,
    title: str,
    data: dict,
    obj: Model | None = None,
    is_batch: bool = False,
    items: list | None = None,
    total: int = 1,
) -> GeneratedDocument:
    version = fingerprint(spec.template, data)
    content_type = ContentType.objects.get_for_model(obj) if obj is not None else None
    object_id = obj.pk if obj is not None else None
    key = ":".join(
        [
            spec.code,
            "batch" if is_batch else "one",
            str(content_type.pk if content_type else "-"),
            str(object_id or "-"),
            version,
        ]
    )
    document, created = GeneratedDocument.objects.select_for_update().get_or_create(
        idempotency_key=key,
        defaults={
            "form_code": spec.code,
            "content_type": content_type,
            "object_id": object_id,
            "is_batch": is_batch,
            "items": items or [],
            "title": title[:200],
            "data": data,
            "version": version,
            "requested_by": actor,
            "progress_total": max(total, 1),
        },
    )
    requeue = not created and (
        document.state == State.FAILED
        or (document.state == State.READY and not _file_exists(document))
    )
    if requeue:
        document.state = State.QUEUED
        document.message = ""
        document.attempts = 0
        document.progress_done = 0
        document.published_at = None
        document.started_at = document.finished_at = None
        document.save()
    audit_record(
        actor=actor,
        action=AuditAction.DOCUMENT_REQUEST,
        target=document,
        facility_id=getattr(obj, "facility_id", None) or _facility_id_of(obj),
        changes={"form": spec.code, "new": created, "requeued": requeue},
    )
    if created or requeue:
        _publish_on_commit(document.pk)
    return document


def _facility_id_of(obj) -> int | None:
    if obj is not None and obj._meta.label == "facilities.Facility":
        return obj.pk
    return None


def _file_exists(document: GeneratedDocument) -> bool:
    return bool(document.file) and document.file.storage.exists(document.file.name)


def _title(spec: registry.FormSpec, suffix: str = "") -> str:
    return f"{spec.annex} {spec.title}" + (f"（{suffix}）" if suffix else "")


@transaction.atomic
def document_request_blank(*, actor, code: str) -> GeneratedDocument:
    """A blank form to fill in by hand (or 別紙5/6, which have nothing to fill in)."""
    spec = registry.get(code)
    return _request(actor=actor, spec=spec, title=_title(spec), data=spec.blank_context())


@transaction.atomic
def document_request_for(
    *, actor, code: str, target: registry.Target, obj: Model
) -> GeneratedDocument:
    """The form filled from one object; the caller has checked `target.visible_to(actor)`."""
    spec = registry.get(code)
    if target.on_request is not None:
        target.on_request(actor, obj)
    return _request(
        actor=actor,
        spec=spec,
        title=_title(spec, target.label(obj)),
        data=spec.object_context(target, obj),
        obj=obj,
    )


@transaction.atomic
def document_request_batch(*, actor, batch, scope: Model | None, objects) -> GeneratedDocument:
    """One job, one PDF, for many objects (e.g. every pending 別紙7 of a facility)."""
    spec = registry.get(batch.form_code)
    target = spec.target_for(batch.item_model)
    objects = list(objects)
    contexts = [spec.object_context(target, obj) for obj in objects]
    suffix = batch.title if scope is None else f"{scope}・{batch.title}"
    return _request(
        actor=actor,
        spec=spec,
        title=_title(spec, suffix),
        data={"batch": batch.key, "item_model": batch.item_model, "contexts": contexts},
        obj=scope,
        is_batch=True,
        items=[obj.pk for obj in objects],
        total=len(contexts),
    )


@transaction.atomic
def document_retry(*, actor, document: GeneratedDocument) -> GeneratedDocument:
    """Queue a failed document again (the retry button)."""
    document = GeneratedDocument.objects.select_for_update().get(pk=document.pk)
    if document.state != State.FAILED:
        return document
    document.state = State.QUEUED
    document.message = ""
    document.attempts = 0
    document.progress_done = 0
    document.published_at = document.started_at = document.finished_at = None
    document.save()
    audit_record(actor=actor, action=AuditAction.DOCUMENT_RETRY, target=document)
    _publish_on_commit(document.pk)
    return document


@transaction.atomic
def document_downloaded(*, actor, document: GeneratedDocument) -> None:
    """Downloads of printed personal data are access-logged (national guideline, via 第3条)."""
    audit_record(
        actor=actor,
        action=AuditAction.DOCUMENT_DOWNLOAD,
        target=document,
        changes={"form": document.form_code},
    )


# --- rendering (the task) -----------------------------------------------------------------
def _claim(document_id: int, *, takeover: bool) -> GeneratedDocument | str:
    """Mark the document as rendering by this run, or say why it needs no run."""
    now = timezone.now()
    # The usual case in one statement (a round trip, not four): a queued document, or one
    # whose claim lapsed or that this run takes over. PostgreSQL checks the condition again on
    # the row a concurrent claim has just written, so two runs never both claim it.
    claimable = Q(state=State.QUEUED) | Q(state=State.RENDERING) & (
        Q() if takeover else Q(updated_at__lte=now - CLAIM_LAPSES_AFTER)
    )
    claimed = GeneratedDocument.objects.filter(claimable, pk=document_id).update(
        state=State.RENDERING,
        started_at=now,
        attempts=F("attempts") + 1,
        progress_done=0,
        message="",
        updated_at=now,
    )
    if claimed:
        return GeneratedDocument.objects.get(pk=document_id)
    # The rest (missing, ready, failed, a live claim; ready but its file lost), under the lock.
    with transaction.atomic():
        document = GeneratedDocument.objects.select_for_update().filter(pk=document_id).first()
        if document is None:
            return "missing"
        if document.state == State.READY and _file_exists(document):
            return "already ready"
        if document.state == State.FAILED:
            return "failed"
        if (
            document.state == State.RENDERING
            and not takeover
            and document.updated_at > now - CLAIM_LAPSES_AFTER
        ):
            return "busy"  # another run holds a live claim; if its worker dies, the sweep requeues
        document.state = State.RENDERING
        document.started_at = now
        document.attempts += 1
        document.progress_done = 0
        document.message = ""
        document.save(
            update_fields=[
                "state",
                "started_at",
                "attempts",
                "progress_done",
                "message",
                "updated_at",
            ]
        )
        return document


def _test_delay() -> None:
    """Tests only (tests/printing/test_worker.py): MCNET_RENDER_TEST_DELAY seconds of pause
    between the claim and the rendering, so a test can kill the worker mid-render. Read from
    the test settings; production settings never set it."""
    delay = float(getattr(settings, "MCNET_RENDER_TEST_DELAY", 0) or 0)
    if delay > 0:
        time.sleep(delay)


def _render(document: GeneratedDocument, unprintable: list[str]) -> bytes:
    """The PDF; characters no font has are printed as 〓 and added to `unprintable`."""
    spec = registry.get(document.form_code)
    if not document.is_batch:
        return write_pdf([render_document(spec.template, document.data, unprintable=unprintable)])
    laid_out = []
    for done, context in enumerate(document.data.get("contexts", []), start=1):
        laid_out.append(render_document(spec.template, context, unprintable=unprintable))
        GeneratedDocument.objects.filter(pk=document.pk).update(
            progress_done=done, updated_at=timezone.now()
        )
    if not laid_out:
        raise RenderError(_("対象がありません。"))
    return write_pdf(laid_out)


@contextmanager
def _heartbeat(document_id: int):
    """Keep the claim live while the block runs: touch the document every HEARTBEAT seconds
    from a thread (its own database connection, closed at the end). A heartbeat that fails
    (the database restarting) is skipped, not fatal: the rendering decides the outcome."""
    if connection.vendor == "sqlite":
        yield  # the demo (eager, one process): nobody to tell, and SQLite locks per file
        return
    stop = threading.Event()

    def beat():
        from django.db import connection as own

        try:
            while not stop.wait(HEARTBEAT):
                try:
                    GeneratedDocument.objects.filter(pk=document_id, state=State.RENDERING).update(
                        updated_at=timezone.now()
                    )
                except DatabaseError:
                    own.close()  # reconnect at the next beat
        finally:
            own.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{document_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT + 5)


def document_render(*, document_id: int, takeover: bool = False) -> str:
    """Render one document (called by the task). Returns what happened, for the task's log."""
    claimed = _claim(document_id, takeover=takeover)
    if isinstance(claimed, str):
        return claimed
    document = claimed
    unprintable: list[str] = []
    try:
        with _heartbeat(document.pk):
            _test_delay()
            pdf = _render(document, unprintable)
    except RenderError as exc:
        document_fail(document_id=document.pk, message=str(exc))
        return "failed"
    # The outcome in one statement, if the claim is still this run's (rendering: a run that
    # took over and finished first made it ready). The file is written first and deleted
    # again when the claim was lost: no row points at it then.
    old_name = document.file.name if document.file else ""
    document.file.save(f"{uuid.uuid4().hex}.pdf", ContentFile(pdf), save=False)
    now = timezone.now()
    finished = GeneratedDocument.objects.filter(pk=document.pk, state=State.RENDERING).update(
        file=document.file.name,
        state=State.READY,
        # Shown on the document's page: the form printed, but not every character as written.
        message=unprintable_warning(unprintable) if unprintable else "",
        progress_done=F("progress_total"),
        finished_at=now,
        updated_at=now,
    )
    if not finished:
        document.file.storage.delete(document.file.name)
        state = GeneratedDocument.objects.filter(pk=document.pk).values_list("state", flat=True)
        return f"superseded ({state.first()})"
    if old_name:
        transaction.on_commit(lambda: document.file.storage.delete(old_name))
    return "ready"


def document_fail(*, document_id: int, message: str) -> None:
    """Record why a render failed; the page shows it and offers to try again."""
    with transaction.atomic():
        updated = GeneratedDocument.objects.filter(pk=document_id).exclude(state=State.READY)
        updated.update(
            state=State.FAILED,
            message=message[:2000],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    logger.warning("document %s failed: %s", document_id, message)


def document_requeue(*, document_id: int) -> None:
    """A transient error: back to the queue state, for the task's own retry to claim."""
    GeneratedDocument.objects.filter(pk=document_id, state=State.RENDERING).update(
        state=State.QUEUED, updated_at=timezone.now()
    )


# --- sweeps (beat) ------------------------------------------------------------------------
def document_waits_to_resume(document: GeneratedDocument, *, now=None) -> bool:
    """Its rendering was cut off (worker killed, database restarted, broker lost) and it waits
    for the sweep or a retry: its claim lapsed, or it was started before and is queued again.
    The progress page says 「再開待ち」 instead of showing a count that does not move."""
    now = now or timezone.now()
    if document.state == State.RENDERING:
        return document.updated_at < now - CLAIM_LAPSES_AFTER
    return document.state == State.QUEUED and document.attempts > 0


def documents_requeue_stalled(*, now=None) -> dict:
    """Queue again what the broker never got (Redis down at request time), lost, or what a
    dead worker left "rendering" (its claim lapsed). Safe to run any time: the task renders a
    document once. Stops at the first failed publish: the broker is away, the next sweep
    tries again (a hung broker must not hold the sweep for a timeout per document)."""
    now = now or timezone.now()
    unpublished = GeneratedDocument.objects.filter(
        state=State.QUEUED, published_at__isnull=True, updated_at__lt=now - PUBLISH_RETRY_AFTER
    )
    # The broker lost its data since the last sweep: every message it held is gone.
    republish_before = now if broker_forgot("documents") else now - REPUBLISH_AFTER
    lost = GeneratedDocument.objects.filter(state=State.QUEUED, published_at__lt=republish_before)
    stalled = GeneratedDocument.objects.filter(
        state=State.RENDERING, updated_at__lt=now - CLAIM_LAPSES_AFTER
    )
    counts = {"unpublished": 0, "lost": 0, "stalled": 0, "failed": 0}
    for name, queryset in (("stalled", stalled), ("unpublished", unpublished), ("lost", lost)):
        for pk, attempts in queryset.values_list("pk", "attempts")[:1000]:
            if name == "stalled":
                if attempts >= MAX_ATTEMPTS:
                    document_fail(
                        document_id=pk,
                        message=_(
                            "作成が %(count)s 回中断されたため、作成できませんでした。"
                            "対象を減らしてお試しください。"
                        )
                        % {"count": attempts},
                    )
                    counts["failed"] += 1
                    continue
                GeneratedDocument.objects.filter(
                    pk=pk, state=State.RENDERING, updated_at__lt=now - CLAIM_LAPSES_AFTER
                ).update(state=State.QUEUED, published_at=None, updated_at=timezone.now())
            if not _publish(pk):
                return counts
            counts[name] += 1
    return counts


def documents_purge(*, now=None) -> int:
    """Delete generated PDFs after KEEP_DOCUMENTS (and the rows): they are copies, made again
    on demand, and personal data should not pile up in a second place (別紙6)."""
    now = now or timezone.now()
    old = GeneratedDocument.objects.filter(
        Q(created_at__lt=now - KEEP_DOCUMENTS) & ~Q(state=State.RENDERING)
    )
    count = 0
    for document in old.iterator(chunk_size=500):
        if document.file:
            document.file.storage.delete(document.file.name)
        document.delete()
        count += 1
    return count


def documents_delete_for(*, obj: Model) -> int:
    """Delete every document printed for `obj`, alone or in a batch (an erased patient's
    forms, 別紙6: they must not outlive the data for KEEP_DOCUMENTS)."""
    content_type = ContentType.objects.get_for_model(obj)
    return _documents_delete(
        GeneratedDocument.objects.filter(
            Q(content_type=content_type, object_id=obj.pk)
            | Q(is_batch=True, data__item_model=obj._meta.label, items__contains=[obj.pk])
        )
    )


def documents_delete_quoting(*, texts: list[str]) -> int:
    """Delete every document whose title or stored context holds one of `texts` (a patient's
    name, kana): whatever form printed it, for whatever object."""
    if not texts:
        return 0
    quoting = Q(pk__in=[])
    for text in texts:
        # PostgreSQL's jsonb keeps the characters; SQLite stores them \u-escaped.
        for form in {text, json.dumps(text)[1:-1]}:
            quoting |= Q(title__contains=form) | Q(context_text__contains=form)
    return _documents_delete(
        GeneratedDocument.objects.annotate(context_text=Cast("data", TextField())).filter(quoting)
    )


def _documents_delete(documents) -> int:
    """Rows now, files once the transaction commits (a rollback keeps both)."""
    names = []
    count = 0
    for document in documents.select_for_update(of=("self",)):
        if document.file:
            names.append(document.file.name)
        document.delete()
        count += 1
    if names:
        storage = GeneratedDocument._meta.get_field("file").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return count
