"""gunicorn's settings for Krov: `gunicorn -c python:krov.gunicorn_conf krov.wsgi`.

No access log (it would write client addresses), and gunicorn's own error log goes through
Krov's redaction filter: "Invalid request from ip=…" lines keep no address.
"""

from __future__ import annotations

# Made here, in the master, before it forks the workers: they share one table of the chat
# keys any of them computed (memory only; see the module).
import krov.telegram.chat_key_table  # noqa: F401

accesslog = None
errorlog = "-"
# No control socket under $HOME: two instances would share it, and it fails under
# ProtectHome= or a read-only root (deploy/).
control_socket_disable = True
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "krov.core.logging.RedactFilter"}},
    # The same lines as Krov's own (krov/settings.py LOGGING): UTC, ISO 8601. The arbiter
    # logs before Django loads (and sets TZ); its workers after: one zone for all.
    "formatters": {
        "plain": {
            "class": "krov.core.logtime.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
