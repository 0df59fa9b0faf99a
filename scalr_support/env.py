"""The only reader of the process environment.

Every setting that comes from outside is read here, through django-environ, so that
the list of knobs an operator can turn lives in one place (see CONTRACT.md).
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
