"""Password change and reset, the reset link delivered through a real SMTP server."""

from __future__ import annotations

import re
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.test import Client

from tests.factories import make_member

pytestmark = pytest.mark.django_db


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def test_reset_by_e_mail_then_sign_in_with_the_new_password(workspace, smtp):
    member = make_member(workspace=workspace, role_key="sales_rep", username="li.na")
    member.user.email = "li.na@example.com"
    member.user.set_password("the-old-passphrase-1")
    member.user.save()
    client = Client(HTTP_HOST="127.0.0.1")
    response = client.post("/password/reset/", {"email": "LI.NA@example.com"})
    assert response.status_code == 302
    for _ in range(50):
        if smtp.messages:
            break
        time.sleep(0.05)
    (message,) = smtp.messages
    assert message["To"] == "li.na@example.com"
    body = message.get_payload(decode=True).decode()
    link = re.search(r"http://127\.0\.0\.1(/password/reset/\S+/)", body).group(1)

    form = client.get(link, follow=True)
    assert form.status_code == 200
    confirm_url = form.redirect_chain[-1][0] if form.redirect_chain else link
    weak = client.post(confirm_url, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and "gx-invalid" in weak.content.decode()  # refused inline
    done = client.post(
        confirm_url,
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert done.status_code == 302
    assert Client().login(username="li.na", password="a-brand-new-passphrase")
    assert not Client().login(username="li.na", password="the-old-passphrase-1")


def test_unknown_address_sends_nothing_and_reveals_nothing(smtp, db):
    response = Client(HTTP_HOST="127.0.0.1").post("/password/reset/", {"email": "x@y.cn"})
    assert response.status_code == 302  # the same answer as for a known address
    time.sleep(0.2)
    assert smtp.messages == []


def test_change_password_when_signed_in(workspace):
    member = make_member(workspace=workspace, role_key="sales_rep", username="li.na")
    member.user.set_password("the-old-passphrase-1")
    member.user.save()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    response = client.post(
        "/password/change/",
        {"old_password": "the-old-passphrase-1", "new_password1": "another-passphrase-2",
         "new_password2": "another-passphrase-2"},
    )  # fmt: skip
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    member.user.refresh_from_db()
    assert member.user.check_password("another-passphrase-2")
