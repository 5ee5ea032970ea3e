"""What every command shares: logging, the state (config file, clock, database), output."""

from __future__ import annotations

import functools
import getpass
import json
import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gateway.clock import Clock, FrozenClock, SystemClock, parse_instant
from gateway.config import Config, ConfigError, ManagerSection, config_path, load_config
from gateway.domain.managers import UnknownManager, resolve_manager
from gateway.store.db import Database, SchemaOutOfDate


def setup_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").addFilter(_only_real_migrations)


def _only_real_migrations(record: logging.LogRecord) -> bool:
    """Alembic announces its dialect on every command; only a migration that runs is news."""
    return not str(record.msg).startswith(("Context impl", "Will assume"))


def exception_without_text(exc_info: Any) -> str:
    """A traceback's frames and exception kinds, without the exceptions' own text.

    That text can quote what a statement could not store or a parser could not read: message
    text and people's details, which never go to the log."""
    if not exc_info or exc_info[0] is None:
        return ""
    kinds: list[str] = []
    stack = "".join(traceback.format_tb(exc_info[2]))
    seen: BaseException | None = exc_info[1]
    while seen is not None and len(kinds) < 10:
        kinds.append(type(seen).__qualname__)
        seen = seen.__cause__ or seen.__context__
    return f"Traceback (most recent call last):\n{stack}{' <- '.join(kinds)} (text not logged)"


class TextFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return exception_without_text(ei)


class JsonFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return exception_without_text(ei)

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


class State:
    def __init__(self, config_file: str | None, now: str | None) -> None:
        self.config_file = config_path(config_file)
        self._now = now

    def override(self, config_file: str | None, now: str | None) -> None:
        if config_file:
            self.config_file = Path(config_file)
        if now:
            self._now = now

    def config(self) -> Config:
        try:
            return load_config(self.config_file)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            raise SystemExit(2) from None

    def clock(self) -> Clock:
        if self._now is None:
            return SystemClock()
        try:
            return FrozenClock(parse_instant(self._now))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from None

    def read_database(self, config: Config) -> Database:
        """For commands that only read: never creates or migrates the database, and on SQLite
        never takes the write lock (the daemon keeps writing while it runs)."""
        db = Database(config.gateway.database, read_only=True)
        missing = db.missing_file()
        if missing is not None:
            click.echo(
                f"error: no database at {missing}: nothing has been recorded there yet; "
                "`mash-gateway db upgrade` (or the first `mash-gateway run`) creates it",
                err=True,
            )
            raise SystemExit(2)
        try:
            db.require_current()
        except SchemaOutOfDate as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(2) from None
        return db

    def database(self, config: Config) -> Database:
        db = Database(config.gateway.database)
        try:
            if db.is_sqlite:
                db.upgrade()
            else:
                db.require_current()
        except SchemaOutOfDate as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(2) from None
        return db


pass_state = click.make_pass_decorator(State)


def read_keyring(config: Config) -> Any:
    """The keyring for a command that only reads: None (with a note) when it does not exist
    yet, and never created; the signing passphrase is not needed to read."""
    from gateway.crypto.keyring import CryptoError, MissingKeyring, keyring_from_config

    try:
        return keyring_from_config(config, create=False)
    except MissingKeyring as exc:
        click.echo(f"note: {exc}", err=True)
        return None
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from None


class GatewayGroup(click.Group):
    """Turns a configuration problem found mid-command (a secret not set, say) into one line
    naming the file, the key and the fix, with exit code 2: never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            state = ctx.find_object(State)
            where = f"{state.config_file}: " if state is not None else ""
            for problem in exc.problems:
                click.echo(f"error: {where}{problem}", err=True)
            raise SystemExit(2) from None


def acting_manager(config: Config, by: str | None) -> ManagerSection:
    """The [[manager]] a command acts for: `--by` (name or address, any case), else the one
    whose `os_user` is the login name. Anyone else: exit 2, listing the managers."""
    try:
        login: str | None = getpass.getuser()
    except (KeyError, OSError):  # no login name in the environment or the password database
        login = None
    try:
        return resolve_manager(config, by, login)
    except UnknownManager as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


def letters_for(config: Config) -> Any:
    """The templates, with the keyring that seals mail to agencies (when one is configured)."""
    from gateway.crypto.keyring import CryptoError, keyring_from_config
    from gateway.outbound.compose import Letters

    try:
        return Letters(keyring=keyring_from_config(config))
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from None


def emit(data: Any, as_json: bool, text: Callable[[Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        text(data)


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    """`-c` and `--now` are accepted after the sub-command too, and applied to the state."""

    @functools.wraps(func)
    def wrapper(
        *args: Any, sub_config: str | None = None, sub_now: str | None = None, **kwargs: Any
    ) -> Any:
        state = click.get_current_context().find_object(State)
        if state is not None:
            state.override(sub_config, sub_now)
        return func(*args, **kwargs)

    wrapper = click.option("--now", "sub_now", metavar="ISO-8601", help="Fix the clock.")(wrapper)
    return click.option("-c", "--config", "sub_config", metavar="FILE", help="Configuration file.")(
        wrapper
    )
