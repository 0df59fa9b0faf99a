"""Settings of the processes the fault suite starts (web, worker, beat, receiver).

The production settings, with what a loopback test rig needs on top: plain HTTP
(no secure-only cookies or redirects), a fast password hasher, static files from
the app folders, sweeps every ``FAULTS_SWEEP_SECONDS`` instead of every 30 s, and
claims considered stale after ``FAULTS_STALE_SECONDS``. ``tests.faults`` is an
installed app: its ``FaultInjectorConfig`` adds the scripted crashes and delays the
scenarios ask for (see ``injector.py``); it does nothing unless told to.
"""

from scalr_support.settings.production import *

# A loopback rig over plain HTTP.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
CSRF_TRUSTED_ORIGINS = [SITE_URL]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WHITENOISE_USE_FINDERS = True
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "10000/min", "user": "10000/min"}

INSTALLED_APPS = [*INSTALLED_APPS, "tests.faults.injector.FaultInjectorConfig"]

# Time, scaled: every sweep every few seconds, claims stale after a few seconds.
_sweep = env.float("FAULTS_SWEEP_SECONDS", default=2.0)
for _entry in CELERY_BEAT_SCHEDULE.values():
    if _entry["schedule"] <= 60:
        _entry["schedule"] = _sweep
        _entry["options"] = {"expires": max(_sweep * 0.9, 1.0)}
_stale = env.float("FAULTS_STALE_SECONDS", default=8.0)
EMAIL_OUTBOX_STALE_CLAIM_SECONDS = _stale
INBOUND_STALE_AFTER_SECONDS = _stale
# A task per stored message: the worker-killed scenario aims each kill at the task
# of the message it has just stored.
INBOUND_TASK_MARK_SECONDS = 0.0
SWEEP_REQUEUE_AFTER_SECONDS = _stale
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=2.0)
SLACK_WEBHOOK_TIMEOUT = env.float("SLACK_WEBHOOK_TIMEOUT", default=1.0)
