"""The watch: background work on Celery, its delegated credentials and its own health."""
