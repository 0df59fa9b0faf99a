"""Celery entry points of the accounts; each only calls a service."""

from celery import shared_task

from . import password_reset


@shared_task
def password_reset_mail(email: str, request_key: str) -> int:
    """Queue the reset mail of one request; delivered twice, it mails once."""
    return password_reset.password_reset_queue(email=email, request_key=request_key)
