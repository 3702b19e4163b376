from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "krov.settings")

from krov.cli import load_settings  # noqa: E402

try:
    load_settings()
except SystemExit:
    # Exit code 4 tells gunicorn's arbiter the app cannot load: stop instead of respawning.
    sys.exit(4)

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
