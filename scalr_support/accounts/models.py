"""People: customers' contacts and support staff share one user model."""

from functools import cache
from typing import Any, ClassVar
from zoneinfo import available_timezones as _zones

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailUserManager(UserManager["User"]):
    """Create users keyed by email; there is no username."""

    use_in_migrations = True

    def _create_user(  # type: ignore[override]
        self, email: str, password: str | None, **extra_fields: Any
    ) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


@cache
def available_timezones() -> frozenset[str]:
    """The IANA zone names this machine knows (read from disk once)."""
    return frozenset(_zones())


def validate_time_zone(value: str) -> None:
    """Accept an IANA zone name (``Europe/Berlin``) or nothing."""
    if value and value not in available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone name such as Europe/Berlin."),
            params={"value": value},
        )


class User(AbstractUser):
    """A person who signs in with an email address."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    # Staff see every time in this zone (customers see their organisation's);
    # empty: UTC. Activated per request by tickets.middleware.ContactMiddleware.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Times on staff pages are shown in this zone; empty: UTC."),
    )

    objects: ClassVar[EmailUserManager] = EmailUserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class ApiToken(models.Model):
    """A personal API key, kept as a lookup prefix and a SHA-256 hash of its secret.

    The full key (``sst_<prefix>_<secret>``) is shown once when it is made and never
    stored: a leaked database does not leak working keys. The secret is 256 random
    bits, so a fast hash is enough (there is nothing to brute-force).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} (sst_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
