"""Putting the pieces together: the store, the catalogue, the engine and the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine as Database

from bot.catalog import Catalog
from bot.engine import Engine
from bot.settings import Settings
from flows.masking import KeepPersonalDataOut
from notifications.backlog import Alerts
from notifications.outbox import Outbox
from notifications.retrying import RetryPolicy
from notifications.scheduler import Scheduler
from notifications.senders import Sender
from storage import catalog as seed_catalog
from storage.db import make_engine, opening_store
from storage.migrate import upgrade


def open_store(url: str) -> Database:
    """Connect, bring the schema up to date and load the catalogue on first start.

    Raises :class:`storage.db.StoreUnavailable` with a plain sentence when the
    store cannot be opened."""
    with opening_store(url):
        database = make_engine(url)
        upgrade(database)
        seed_catalog.ensure_loaded(database)
    return database


@dataclass
class Bot:
    database: Database
    engine: Engine
    outbox: Outbox
    scheduler: Scheduler


def build(settings: Settings, senders: dict[str, Sender] | None = None) -> Bot:
    database = open_store(settings.database)
    outbox = Outbox(
        database, senders if senders is not None else {},
        policy=RetryPolicy(give_up_after=timedelta(hours=settings.outbox_retry_hours)),
        alerts=Alerts(settings.outbox_alert_due, timedelta(minutes=settings.outbox_alert_age_minutes), settings.outbox_alert_failed),
    )
    catalog = Catalog.from_store(database, models=settings.models)
    engine = Engine(database, catalog, on_queued=outbox.notify, duplicate_rules=settings.duplicate_rules, web_url=settings.web_url)
    scheduler = Scheduler(database, catalog, on_queued=outbox.notify, retention_months=settings.retention_months)
    return Bot(database, engine, outbox, scheduler)


def configure_logging(level: str) -> None:
    """Log lines on standard error; at INFO and above never personal data
    (see :class:`flows.masking.KeepPersonalDataOut`)."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, KeepPersonalDataOut) for f in handler.filters):
            handler.addFilter(KeepPersonalDataOut())
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
