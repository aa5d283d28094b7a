"""Settings for the test suite: the production settings with a test key and plain HTTP."""

from __future__ import annotations

import os

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
    "http://testserver/watch/callback/",
]
