"""Print one form to a PDF file, for operators and scripts.

python manage.py render_form besshi7 --sample --output /tmp/besshi7.pdf
python manage.py render_form besshi3 --id 12 --output 別紙3.pdf
python manage.py render_form besshi3 --id 4 --model facilities.Facility -o staff.pdf
python manage.py render_form besshi1 --blank --output blank.pdf

With --id, the object is by default the paper as filed: the application (別紙1, 別紙2), the
bulk registration request (別紙3), the change notice (別紙4), the consent (別紙7), the
take-out request; --model picks another kind (a facility for 別紙1–4, a patient for 別紙7).
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mcnet.printing import registry
from mcnet.printing.renderer import RenderError, render_pdf


class Command(BaseCommand):
    help = "Render a printed form (別紙1–7, takeout) to an A4 PDF."

    def add_arguments(self, parser):
        parser.add_argument("code", choices=registry.FORM_CODES, help="the form")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--sample", action="store_true", help="fill it with sample data")
        source.add_argument("--id", type=int, help="the object's id (facility, consent, ...)")
        source.add_argument("--blank", action="store_true", help="print it blank, to fill in")
        parser.add_argument(
            "--model",
            help="with --id, which kind of object when the form has several (app.Model)",
        )
        parser.add_argument(
            "--staff", type=int, default=5, help="with --sample besshi3: number of staff rows"
        )
        parser.add_argument("--output", "-o", required=True, help="where to write the PDF")

    def handle(self, *args, code, sample, id, blank, model, staff, output, **options):
        spec = registry.get(code)
        if sample:
            context = spec.sample_context(**({"staff_count": staff} if code == "besshi3" else {}))
        elif blank:
            context = spec.blank_context()
        else:
            target = spec.target_for(model)
            if target is None:
                kinds = ", ".join(t.model for t in spec.targets) or "none yet"
                raise CommandError(f"{code} is not printed for {model or 'an object'} ({kinds})")
            obj = target.model_class.objects.filter(pk=id).first()
            if obj is None:
                raise CommandError(f"no {target.model} with id {id}")
            context = spec.object_context(target, obj)
        started = time.perf_counter()
        try:
            pdf = render_pdf(spec.template, context)
        except RenderError as exc:
            raise CommandError(str(exc)) from exc
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pdf)
        elapsed = (time.perf_counter() - started) * 1000
        self.stdout.write(f"{path} ({len(pdf)} bytes, {elapsed:.0f} ms)")
