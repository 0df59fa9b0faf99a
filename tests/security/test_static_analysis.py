"""bandit over the project's code: every finding is fixed or justified here.

pip-audit runs in ``make security``; it needs PyPI's advisory service, which this
workplace's package mirror does not offer (offline it reports every dependency as
"could not be audited" and exits 0), so it is not part of the test suite.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# (file, bandit test id) -> why the finding is acceptable. Keep this short.
ACCEPTED: dict[tuple[str, str], str] = {
    ("tickets/admin.py", "B308"): (
        "mark_safe on description_html, which tickets.markdown sanitises with nh3 "
        "when the ticket is written (the stored-XSS suite renders it with payloads)"
    ),
    ("tickets/admin.py", "B703"): "the same mark_safe as B308",
    ("tickets/views.py", "B308"): (
        "mark_safe on cached list and thread fragments rendered by autoescaping "
        "templates (tickets.cache); the canary and XSS suites read these pages"
    ),
    ("tickets/views.py", "B703"): "the same mark_safe as B308",
    ("tickets/list_views.py", "B308"): (
        "the ticket list's cached fragment, moved out of tickets/views.py: rendered "
        "by an autoescaping template (tickets.cache)"
    ),
    ("tickets/list_views.py", "B703"): "the same mark_safe as B308",
    ("tickets/workspace/page.py", "B308"): (
        "mark_safe on the ticket page's cached thread and side panels, rendered by "
        "autoescaping templates (tickets.cache)"
    ),
    ("tickets/workspace/page.py", "B703"): "the same mark_safe as B308",
    ("tickets/workspace/forms.py", "B703"): (
        "SafeString of an input or textarea whose every value format_html escaped"
    ),
    ("tickets/workspace/page_head.py", "B703"): (
        "SafeString of what the autoescaped _ticket_head.html macros and the "
        "form's own widgets rendered (every value escaped)"
    ),
    ("tickets/workspace/page_form.py", "B703"): (
        "SafeString of what the form's own widgets rendered (Django's widget "
        "templates or forms._quick_render, every value escaped)"
    ),
    ("tickets/workspace/rows.py", "B703"): (
        "SafeString of the queue's rows, every value escaped with html.escape"
    ),
    ("tickets/workspace/controls.py", "B703"): (
        "SafeString of the queue's select options, every value escaped with html.escape"
    ),
    ("scalr_support/common/jinja2.py", "B704"): (
        "Markup of a template value that html.escape has just escaped (the Jinja2 "
        "engine's finalize, which writes Django's entities), of our own "
        "translations, as Jinja2's newstyle gettext marks them, and of a once "
        "block's or a remembered macro's output, which the autoescaping engine "
        "rendered"
    ),
    ("tickets/workspace/queue_frame.py", "B704"): (
        "Markup of the kept frame's markers, hex digits from secrets.token_hex"
    ),
    ("scalr_support/common/backup.py", "B404"): (
        "backup and restore run pg_dump/pg_restore/psql: fixed argv, no shell"
    ),
    ("scalr_support/common/backup.py", "B603"): "the same fixed-argv subprocess calls",
    ("scalr_support/keepalive.py", "B404"): (
        "make run's supervisor starts the Procfile's own command lines, no shell"
    ),
    ("scalr_support/keepalive.py", "B603"): "the same Procfile command lines",
    ("scalr_support/common/backup.py", "B608"): (
        "table names come from the module's own constant CHECKED_TABLES, not input"
    ),
    ("scalr_support/demo/management/commands/seed_demo.py", "B105"): (
        "the demo password is published in README.md and CONTRACT.md"
    ),
    ("scalr_support/settings/test.py", "B105"): "the test settings' own key",
    ("maintenance/services/announcements.py", "B101"): (
        "an assert that narrows a type after a query that guarantees it"
    ),
}


@pytest.mark.slow
def test_bandit_finds_nothing_unjustified():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bandit",
            "-c",
            "pyproject.toml",
            "-r",
            ".",
            "-f",
            "json",
            "-q",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    findings = [
        (
            str(Path(item["filename"]).relative_to(".")),
            item["test_id"],
            item["line_number"],
            item["issue_text"],
        )
        for item in report["results"]
    ]
    unjustified = [f for f in findings if (f[0], f[1]) not in ACCEPTED]

    assert report["errors"] == []
    assert unjustified == [], "\n".join(
        f"{path}:{line} {test_id} {text}" for path, test_id, line, text in unjustified
    )
