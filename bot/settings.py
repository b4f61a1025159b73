"""Settings, read from the environment and from a ``.env`` file.

Every setting is documented, with a safe placeholder, in ``.env.example``.
The environment wins over ``.env``, so a deployment can override a file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from pathlib import Path

DEFAULT_TELEGRAM_API = "https://api.telegram.org"
DEFAULT_TWILIO_API = "https://api.twilio.com"
ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")  # the placeholder ACxxxx... never matches


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines; ``#`` comments, blank lines and optional quotes."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = key.strip().removeprefix("export ").strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


@dataclass(frozen=True)
class Settings:
    data_dir: str = "data"
    database_url: str = ""
    models_dir: str = ""  # the classifier's fitted model, saved between starts; empty: DATA_DIR/models
    log_level: str = "INFO"
    telegram_bot_token: str = ""
    telegram_api_base_url: str = DEFAULT_TELEGRAM_API
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    telegram_poll_interval: float = 0.0
    telegram_per_second: float = 29.5  # messages a second the bot sends in all (Telegram allows 30; more with paid broadcasts)
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_url: str = ""  # the web server's address as staff reach it (dashboard sign-in links); empty: http://WEB_HOST:WEB_PORT
    dashboard_secret: str = ""  # signs the dashboard's session cookies; empty: a new one each start (everyone signs in again)
    web_reuse_port: str = "off"  # on: several `onewindow run` on one machine share WEB_PORT (Linux SO_REUSEPORT)
    open311: str = "on"  # on: the Open311 GeoReport v2 API at /open311/v2/ | off
    web_chat: str = "on"  # on: citizens may talk to the bot from a browser at /chat | off
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_whatsapp_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_public_url: str = ""
    twilio_status_callback: str = "on"  # on (derived from the public URL) | off | a URL
    twilio_api_base_url: str = DEFAULT_TWILIO_API
    whatsapp_per_second: float = 10.0  # messages a second the WhatsApp sender may send (Twilio's limit for the number)
    whatsapp_templates: str = ""  # kind=ContentSid pairs: "reply=HX...,status=HX..."
    retention_months: int = 0  # closed requests are anonymized this many months after closing; 0: kept
    export_pseudonym_key: str = ""  # keys the citizens' pseudonyms in `onewindow export`
    outbox_retry_hours: float = 24.0  # how long a reply is retried before it is failed
    outbox_alert_due: int = 1000  # /healthz turns 503 past this many messages waiting to go...
    outbox_alert_age_minutes: float = 15.0  # ...or when the oldest has waited this long...
    outbox_alert_failed: int = 20  # ...or when this many were given up in the last 24 hours (0: never)
    duplicate_mine_days: int = 30  # "you already asked this": the citizen's own open requests this recent
    duplicate_person_days: int = 183  # the same person, the same need, within this many days, is one case
    duplicate_neighbour_days: int = 30  # neighbours' reports of one problem within this many days are one group
    duplicate_likeness: float = 85.0  # neighbours naming no common topic: words at least this alike (0-100)

    @classmethod
    def load(cls, env_file: str | Path = ".env", environ: dict[str, str] | None = None) -> Settings:
        merged = {**read_env_file(Path(env_file)), **(os.environ if environ is None else environ)}
        values = {}
        for f in fields(cls):
            raw = merged.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = type(f.default)(raw) if not isinstance(f.default, str) else raw
        return cls(**values)

    @property
    def web_url(self) -> str:
        """Where people reach the web server: ``PUBLIC_URL``, else the address it listens on."""
        return self.public_url.rstrip("/") or f"http://{self.web_host}:{self.web_port}"

    @property
    def duplicate_rules(self):
        """The thresholds of :mod:`flows.duplicates` (defaults chosen on two old sheets: bench/duplicates.py)."""
        from flows.duplicates import Rules

        return Rules(person_days=self.duplicate_person_days, neighbour_days=self.duplicate_neighbour_days,
                     neighbour_likeness=self.duplicate_likeness, mine_days=self.duplicate_mine_days)

    @property
    def database(self) -> str:
        """``DATABASE_URL``, or a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir) / 'onewindow.sqlite3'}"

    @property
    def reuse_port(self) -> bool:
        return self.web_reuse_port.strip().lower() in ("on", "true", "yes", "1")

    @property
    def models(self) -> Path:
        """Where the classifier's fitted model is kept (see bot/model_cache.py)."""
        return Path(self.models_dir) if self.models_dir else Path(self.data_dir) / "models"

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def telegram_api(self) -> str:
        return self.telegram_api_base_url.rstrip("/")

    @property
    def whatsapp_enabled(self) -> bool:
        """WhatsApp runs when Twilio's credentials and a sender are set (a
        placeholder Account SID copied from ``.env.example`` does not count)."""
        sender = self.twilio_whatsapp_from or self.twilio_messaging_service_sid
        return bool(ACCOUNT_SID.match(self.twilio_account_sid) and self.twilio_auth_token and sender)

    @property
    def twilio_public(self) -> str:
        return self.twilio_public_url.rstrip("/")

    @property
    def twilio_status_callback_url(self) -> str | None:
        """Where Twilio reports delivery: ``/whatsapp/status`` under the public
        URL (``on``), nowhere (``off``), or a URL given in full."""
        value = self.twilio_status_callback.strip()
        if value.lower() in ("off", "no", "false", "0"):
            return None
        if value.lower() in ("on", "yes", "true", "1", ""):
            return f"{self.twilio_public}/whatsapp/status" if self.twilio_public else None
        return value

    @property
    def whatsapp_template_sids(self) -> dict[str, str]:
        """``WHATSAPP_TEMPLATES`` as ``{kind: ContentSid}``."""
        pairs = (item.partition("=") for item in self.whatsapp_templates.split(",") if item.strip())
        return {kind.strip(): sid.strip() for kind, _, sid in pairs if kind.strip() and sid.strip()}
