"""Settings for the test suite: the production settings with a test key and plain HTTP."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
# The suite runs against the sandbox tenant (DEBUG off, as in production).
os.environ.setdefault("SANDBOX_MODE", "1")
os.environ.setdefault("SANDBOX_FAULTS_TOKEN", "test-faults-token")

from dashboard.settings import *  # noqa: E402,F403

STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client's host, registered as the dashboard's reply URL in the sandbox.
SANDBOX_REDIRECT_URIS = [  # noqa: F405
    *SANDBOX_REDIRECT_URIS,  # noqa: F405
    "http://testserver/auth/callback/",
    "http://testserver/auth/sign-in/",
    "http://testserver/tenants/consented/",
    "http://testserver/watch/callback/",
]
# The watch's engine tests run a Celery worker and beat in threads beside the test. SQLite's
# in-memory test database shares one cache between threads, where a write locks a table with no
# waiting (`database table is locked`); a database file gives them SQLite's ordinary locking,
# with the busy timeout. One file per test process, removed at the end of the run.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"dashboard-test-{os.getpid()}.sqlite3")
    }
