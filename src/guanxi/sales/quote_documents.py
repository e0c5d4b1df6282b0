"""A quote as a document: the PDF (WeasyPrint, in the quote's language, with Noto CJK fonts
for Chinese), the e-mail that carries it, and the e-mail on the customer's timeline."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.platform.errors import GuanxiError
from guanxi.platform.models import User
from guanxi.sales.models import Quote
from guanxi.timeline.models import Channel, Interaction
from guanxi.timeline.services import record_interaction


class MailFailed(GuanxiError):
    status = 502
    code = "mail_failed"
    title = "The mail server did not take the message"


def file_name(quote: Quote) -> str:
    return f"{quote.number}-v{quote.revision}.pdf"


def render_html(quote: Quote) -> str:
    """The quote's HTML in its own language (not the reader's)."""
    from guanxi.sales.quotes import quote_lines

    with translation.override(quote.language):
        return render_to_string(
            "sales/quote_pdf.html",
            {"quote": quote, "lines": quote_lines(quote), "workspace": quote.workspace,
             "account": quote.account, "contact": quote.contact, "owner": quote.owner},
        )  # fmt: skip


def render_pdf(quote: Quote) -> bytes:
    from weasyprint import HTML  # heavy: loaded when a quote is rendered

    return HTML(string=render_html(quote)).write_pdf()


def email_quote(*, quote: Quote, pdf: bytes, to: str, by: User | None, message: str = "") -> None:
    """Send through Django's mail backend (SMTP in production: GUANXI_EMAIL_URL)."""
    with translation.override(quote.language):
        subject = _("Quote %(quote)s from %(company)s") % {
            "quote": quote.label, "company": quote.workspace.name}  # fmt: skip
        body = (message or "").strip() or _(
            "Dear customer,\n\nplease find our quote %(quote)s attached, valid until %(date)s."
            "\n\nKind regards,\n%(sender)s"
        ) % {"quote": quote.label, "date": quote.valid_until.isoformat(),
             "sender": (by.get_full_name() or by.username) if by else quote.workspace.name}  # fmt: skip
    reply_to = [by.email] if by is not None and by.email else None
    email = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                         to=[to], reply_to=reply_to)  # fmt: skip
    email.attach(file_name(quote), pdf, "application/pdf")
    try:
        email.send(fail_silently=False)
    except OSError as exc:  # smtplib's errors are OSErrors, like refused connections
        raise MailFailed(_("The quote was not sent: %(error)s") % {"error": exc}) from exc


def log_email(*, quote: Quote, to: str, by: User | None) -> Interaction:
    """The sent quote on the customer's timeline, as an outbound e-mail."""
    interaction, _created = record_interaction(
        workspace=quote.workspace, by=by, channel=Channel.EMAIL,
        direction=Interaction.Direction.OUTBOUND, contact=quote.contact, account=quote.account,
        subject=_("Quote %(quote)s sent") % {"quote": quote.label},
        body=_("Quote %(quote)s (%(total)s %(currency)s) sent to %(to)s as %(file)s.")
        % {"quote": quote.label, "total": quote.total, "currency": quote.currency, "to": to,
           "file": file_name(quote)},
        related=quote,
    )  # fmt: skip
    return interaction
