"""Settings for benchmarks run under gunicorn: Krov's, plus the bench URLs."""

from krov.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
