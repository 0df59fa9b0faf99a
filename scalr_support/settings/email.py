"""Outgoing mail: files under var/mail/ by default; SMTP or an ESP via EMAIL_URL."""

from scalr_support.env import VAR_DIR, env

_email_url = env.str("EMAIL_URL", default="")
if _email_url:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_WEBHOOK_SECRET"
}
if env.str("ANYMAIL_WEBHOOK_SECRET", default=""):
    ANYMAIL["WEBHOOK_SECRET"] = env.str("ANYMAIL_WEBHOOK_SECRET")

SUPPORT_EMAIL_DOMAIN = env.str("SUPPORT_EMAIL_DOMAIN", default="support.example.com")
DEFAULT_FROM_EMAIL = f"Scalr Support <support@{SUPPORT_EMAIL_DOMAIN}>"
SERVER_EMAIL = f"support@{SUPPORT_EMAIL_DOMAIN}"
