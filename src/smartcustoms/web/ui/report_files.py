"""A report as a file to send, outside any request: what the scheduled report e-mail attaches
(:mod:`smartcustoms.interop.notify.report_mail`). The same exports as the download links —
CSV with its BOM, XLSX, the PDF from the ``reports_pdf.html`` page — in the schedule's
language."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from smartcustoms.core.context import AppContext
from smartcustoms.interop.notify.email import Attachment
from smartcustoms.interop.notify.report_mail import ReportMailer, attach_report_mailer
from smartcustoms.reports import Filters, applied, compute, report_kind
from smartcustoms.reports.exports import csv_chunks, pdf_bytes, xlsx_bytes
from smartcustoms.web.i18n import translations

# The page's environment and the report's view are what the PDF download uses; shared, not
# copied, so the mailed PDF is the downloaded one.
from smartcustoms.web.ui.render import _environment
from smartcustoms.web.ui.routes.reports import _view

__all__ = ["MEDIA_TYPES", "attach_report_mail", "report_file"]

MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def report_file(
    ctx: AppContext, name: str, filters: Filters, fmt: str, language: str
) -> Attachment:
    """Report ``name`` over ``filters`` as a ``fmt`` file (csv, xlsx, pdf) in ``language``."""
    kind = report_kind(name)
    used = applied(name, filters)
    with ctx.db.read_session() as session:
        report = compute(session, name, used)
    gettext = translations(language).gettext
    if fmt == "csv":
        data = ("\ufeff" + "".join(csv_chunks(report, gettext))).encode()
    elif fmt == "xlsx":
        data = xlsx_bytes(report, gettext, filters=used.as_dict())
    elif fmt == "pdf":
        page = (
            _environment(language)
            .get_template("reports_pdf.html")
            .render(
                language=language,
                administration=ctx.settings.administration_name,
                kind=kind,
                filters=used,
                generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                **_view(report, language),
            )
        )
        data = pdf_bytes(page)
    else:
        raise ValueError(f"no report format {fmt!r}")
    filename = f"{name}-{used.date_from.isoformat()}-{used.date_to.isoformat()}.{fmt}"
    return Attachment(filename, MEDIA_TYPES[fmt], data)


def attach_report_mail(ctx: AppContext, *, start: bool = True) -> ReportMailer | None:
    """Start the scheduled report e-mails for ``ctx``, with this module's files."""
    return attach_report_mailer(ctx, partial(report_file, ctx), start=start)
