"""Email adapter: SMTP (STARTTLS or implicit TLS, with AUTH) or Amazon SES (sesv2), text + HTML."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sgwatch.model import Alert
from sgwatch.notify.config import EmailConfig
from sgwatch.notify.outcome import Attempt, Delivered, Message, Permanent, Retryable
from sgwatch.notify.render.email import EmailBody, email_alert, email_digest
from sgwatch.notify.runtime import ChannelSender, Runtime


def build_message(config: EmailConfig, body: EmailBody, runtime: Runtime) -> EmailMessage:
    """A multipart/alternative message (text first, HTML second)."""
    message = EmailMessage()
    message["Subject"] = body.subject
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message["Date"] = format_datetime(runtime.clock.now())
    message["Message-ID"] = make_msgid(domain="sgwatch.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body.text)
    message.add_alternative(body.html, subtype="html")
    return message


def _smtp_reply(code: int, text: bytes | str) -> str:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"SMTP {code} {' '.join(detail.split())[:200]}".rstrip()


class EmailSender(ChannelSender[EmailConfig]):
    """Sends one email per message to every recipient of the channel."""

    _context: Any = None  # ssl.SSLContext once built (_tls_context)

    def destination(self) -> str:
        if self.config.transport == "ses":
            return f"ses:{self.config.region or 'default'}:{self.config.sender}"
        return f"smtp:{self.config.host}:{self.config.port}"

    def send(self, message: Message) -> Attempt:
        prefix = self.config.subject_prefix
        body = email_alert(message, prefix) if isinstance(message, Alert) else email_digest(message, prefix)
        if self.config.transport == "ses":
            return self._send_ses(body)
        return self._send_smtp(build_message(self.config, body, self.runtime))

    def _send_ses(self, body: EmailBody) -> Attempt:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        from sgwatch.notify.awserrors import aws_attempt  # noqa: PLC0415

        content = {
            "Simple": {
                "Subject": {"Data": body.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": body.text, "Charset": "UTF-8"},
                    "Html": {"Data": body.html, "Charset": "UTF-8"},
                },
            }
        }
        try:
            reply = self.runtime.aws_client("sesv2", self.config.region).send_email(
                FromEmailAddress=self.config.sender,
                Destination={"ToAddresses": list(self.config.recipients)},
                Content=content,
            )
        except (ClientError, BotoCoreError) as exc:
            return aws_attempt(exc)
        return Delivered(detail=f"SES message {reply.get('MessageId', '?')}")

    def _tls_context(self) -> Any:
        """The TLS context, built on first use and kept with the sender (loading a CA bundle reads a file)."""
        if self._context is None:
            import ssl  # noqa: PLC0415

            ca_file = self.config.ca_file
            self._context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        return self._context

    def _send_smtp(self, message: EmailMessage) -> Attempt:
        import smtplib  # noqa: PLC0415
        import socket  # noqa: PLC0415
        import ssl  # noqa: PLC0415

        config = self.config
        host = config.host or "localhost"
        try:
            context = self._tls_context()
        except OSError as exc:  # ssl.SSLError is an OSError: a missing, unreadable or non-PEM bundle
            problem = exc.reason if isinstance(exc, ssl.SSLError) else exc.strerror
            return Permanent(
                reason=f"cannot load ca_file {config.ca_file} ({problem or type(exc).__name__}); "
                "give a readable PEM CA bundle",
                channel_wide=True,
            )
        local = socket.gethostname() or "localhost"
        try:
            smtp = (
                smtplib.SMTP_SSL(host, config.port, local, timeout=self.runtime.timeout, context=context)
                if config.ssl
                else smtplib.SMTP(host, config.port, local, timeout=self.runtime.timeout)
            )
            with smtp:
                smtp.ehlo()
                if config.starttls:
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if config.username is not None and config.password is not None:
                    smtp.login(
                        self.runtime.secrets.resolve(config.username), self.runtime.secrets.resolve(config.password)
                    )
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            return Permanent(
                reason=f"authentication failed ({_smtp_reply(exc.smtp_code, exc.smtp_error)})", channel_wide=True
            )
        except smtplib.SMTPNotSupportedError as exc:
            return Permanent(reason=f"server does not support {exc} (check starttls/ssl/auth)", channel_wide=True)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            reason = "all recipients refused: " + ", ".join(
                f"{addr} ({_smtp_reply(code, text)})" for addr, (code, text) in exc.recipients.items()
            )
            if all(400 <= code < 500 for code in codes):
                return Retryable(reason=reason)
            return Permanent(reason=reason, channel_wide=True)
        except smtplib.SMTPResponseException as exc:
            reason = _smtp_reply(exc.smtp_code, exc.smtp_error)
            if 400 <= exc.smtp_code < 500:
                return Retryable(reason=reason)
            return Permanent(reason=reason)
        except smtplib.SMTPServerDisconnected as exc:
            return Retryable(reason=f"server disconnected ({exc})")
        except smtplib.SMTPException as exc:  # e.g. login: no AUTH method both sides support
            return Permanent(
                reason=f"SMTP failed ({str(exc) or type(exc).__name__}); check host, port, starttls/ssl and auth settings",
                channel_wide=True,
            )
        except ssl.SSLCertVerificationError as exc:
            return Permanent(
                reason=f"TLS certificate not trusted ({exc.verify_message}); set ca_file", channel_wide=True
            )
        except ssl.SSLError as exc:
            return Permanent(reason=f"TLS failed ({exc.reason or exc})", channel_wide=True)
        except TimeoutError:
            return Retryable(reason="timeout")
        except OSError as exc:
            return Retryable(reason=f"connection error ({exc.strerror or type(exc).__name__})")
        if refused:
            shown = ", ".join(f"{addr} ({_smtp_reply(code, text)})" for addr, (code, text) in refused.items())
            return Delivered(detail=f"accepted; refused for {shown}")
        return Delivered(detail=f"accepted by {host}:{config.port}")
