"""Production settings pass Django's deployment checks; responses carry the headers."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from django.test import Client

from tests.processes import run_interpreter, run_python

REPO = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "scalr_support.settings.production",
    "SECRET_KEY": "deploy-check-" + "k3y-0f-fifty-characters-or-more-XYZ" * 2,
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/scalr_support_deploy_check",
    "ANYMAIL_WEBHOOK_SECRET": "deploy:check",
    "ALLOWED_HOSTS": "support.example.com",
    "SITE_URL": "https://support.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://mail.example.com:587",
}


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    return run_interpreter(
        [str(REPO / "manage.py"), *args], PRODUCTION_ENV, timeout=120
    )


@pytest.mark.slow
def test_check_deploy_with_production_settings_is_clean():
    result = manage("check", "--deploy", "--fail-level", "WARNING")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


@pytest.mark.slow
def test_production_settings_refuse_to_start_without_secrets():
    env_without_secret = dict(PRODUCTION_ENV)
    del env_without_secret["SECRET_KEY"]
    result = run_python(
        "import django; django.setup()", env_without_secret, drop=("SECRET_KEY",)
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REDIS_URL", None, "must name a real broker"),
        ("REDIS_URL", "filesystem://", "must name a real broker"),
        ("EMAIL_URL", None, "EMAIL_URL must name a real mail service"),
        ("EMAIL_URL", "filemail:///tmp/mail", "EMAIL_URL must name a real mail"),
        ("EMAIL_URL", "consolemail://", "EMAIL_URL must name a real mail service"),
    ],
)
def test_production_refuses_the_embedded_broker_and_mail_files(
    variable, value, message
):
    environment = {**PRODUCTION_ENV}
    drop = ["CELERY_BROKER_URL"]
    if value is None:
        del environment[variable]
        drop.append(variable)
    else:
        environment[variable] = value
    result = run_python("import django; django.setup()", environment, drop=tuple(drop))

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.slow
def test_the_compose_stack_starts_with_the_readmes_variables():
    """`docker compose up` as the README says it: every variable the stack requires
    is exported there, and production settings load with the services' environment.
    """
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    readme = (REPO / "README.md").read_text()
    services = {
        name: service
        for name, service in compose["services"].items()
        if service.get("image") == "scalr-support:latest"
    }
    assert {"web", "worker", "beat", "smtp"} <= set(services)
    assert "receive_mail" in services["smtp"]["command"]
    for name in ("web", "worker", "beat", "smtp"):  # never on a schema half there
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    environment = services["web"]["environment"]
    assert all(service["environment"] == environment for service in services.values())
    required = re.compile(r"\$\{(\w+):\?[^}]*\}")
    needed = {
        match.group(1)
        for value in environment.values()
        for match in required.finditer(str(value))
    }
    assert needed <= set(re.findall(r"^export (\w+)=", readme, re.MULTILINE))

    resolved = {
        key: required.sub(lambda m: f"compose-{m.group(1)}-" + "x" * 50, str(value))
        for key, value in environment.items()
    }
    # DJANGO_SETTINGS_MODULE: the image's ENV (Dockerfile).
    result = run_python(
        "import django; django.setup()",
        {**resolved, "DJANGO_SETTINGS_MODULE": "scalr_support.settings.production"},
    )

    assert result.returncode == 0, result.stderr


def test_every_long_running_compose_service_is_restarted_after_a_crash():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())

    policies = {
        name: service.get("restart")
        for name, service in compose["services"].items()
        if name != "migrate"  # runs once, then exits
    }
    assert len(policies) >= 7
    assert set(policies.values()) == {"unless-stopped"}, policies
    assert compose["services"]["migrate"]["restart"] == "no"


@pytest.mark.slow
def test_the_image_build_step_loads_production_settings():
    """The Dockerfile's collectstatic step runs with production settings and only
    the variables it sets itself: a required one missing there fails the build."""
    dockerfile = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    [step] = [line for line in dockerfile.splitlines() if "collectstatic" in line]
    assignments = dict(re.findall(r"\b([A-Z_]+)=(\S+)", step.split("python")[0]))

    result = run_python(
        "import django; django.setup()",
        {**assignments, "DJANGO_SETTINGS_MODULE": "scalr_support.settings.production"},
        drop=(
            "SECRET_KEY",
            "DATABASE_URL",
            "ANYMAIL_WEBHOOK_SECRET",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "EMAIL_URL",
        ),
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/api/v1/", "/api/docs/", "/api/schema/", "/nope/"]
)
def test_responses_carry_the_security_headers(path):
    response = Client().get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]


@pytest.mark.slow
def test_production_uses_https_only_cookies_and_hsts():
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_SSL_REDIRECT, "
        "s.DEBUG)",
    )

    assert result.stdout.split() == ["True", "True", "True", "True", "False"], (
        result.stderr
    )
