"""The `giliran` command: serve, check-config, user add/list, hall import/export, demo-history, simulate."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from aiohttp import web

from kiosk import __version__
from kiosk.app import create_app, hall_id, hall_in_use
from kiosk.hall.config import ConfigError, HallConfig
from kiosk.hall.parse import load_hall, parse_hall
from kiosk.queue.clock import SystemClock
from kiosk.queue.errors import DomainError, Unavailable
from kiosk.queue.hall import HALL_KEY
from kiosk.queue.models import ROLES
from kiosk.settings import DEFAULT_DB, Settings, SettingsError
from kiosk.staff.auth import StaffAuth
from kiosk.storage import Store, create_store, is_shared, shown, stored_setting_of
from kiosk.web.appkeys import HALL
from kiosk.web.guard import ConnectionGuard, GuardedSite

log = logging.getLogger("giliran")
DB_HELP = ("SQLite database file (default: var/giliran.sqlite3), or a PostgreSQL URL "
           "postgresql://user:password@host:port/name (docs/postgres.md)")
HALL_HELP = "which hall of a shared PostgreSQL database (default: the hall file's [hall] id, else 'default')"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="giliran", description="Giliran: sistem antrean Mal Pelayanan Publik.")
    parser.add_argument("--version", action="version", version=f"giliran {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (GILIRAN_CONFIG, GILIRAN_DB, GILIRAN_HOST, GILIRAN_PORT)")
    serve.add_argument("--config", help="hall file (default: the bundled MPP Purwakarta demo)")
    serve.add_argument("--db", help=DB_HELP)
    serve.add_argument("--hall", help=HALL_HELP)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for the hall network)")
    serve.add_argument("--port", type=int, help="port (default 8080; 0 picks a free one)")

    check = sub.add_parser("check-config", help="check a hall file and summarise it")
    check.add_argument("file")

    user = sub.add_parser("user", help="manage staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create a staff account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--counters", default="", help="comma-separated counter ids an officer works, e.g. 1,2")
    add.add_argument("--agencies", default="",
                     help="comma-separated agency codes a supervisor's reports are limited to, e.g. DKP,IMI")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = user_sub.add_parser("list", help="list staff accounts")

    demo = sub.add_parser("demo-history", help="fill the database with past days of realistic tickets for the hall "
                                               "(for trying reports; stop the server first)")
    demo.add_argument("--days", type=int, required=True, help="how many days before today, e.g. 365")
    demo.add_argument("--per-day", type=int, default=4000, help="tickets on a busy weekday (default 4000)")
    demo.add_argument("--seed", type=int, default=1, help="the same seed gives the same history")

    hall = sub.add_parser("hall", help="the hall kept in the database (seeded from the hall file on first start)")
    hall_sub = hall.add_subparsers(dest="hall_command", required=True)
    importing = hall_sub.add_parser("import",
                                    help="replace the database's hall with a hall file (stop the server first)")
    importing.add_argument("file")
    exporting = hall_sub.add_parser("export", help="print the database's hall (JSON)")
    moving = sub.add_parser("migrate-to", help="copy a hall's SQLite database into PostgreSQL, verified by counts")
    moving.add_argument("--db", required=True, help="the PostgreSQL URL to copy into (postgresql://...)")
    moving.add_argument("--from", dest="source", default=str(DEFAULT_DB),
                        help=f"the hall's SQLite file (default: {DEFAULT_DB})")
    moving.add_argument("--hall", help="the hall's id in PostgreSQL (default: the [hall] id of the hall kept in "
                                       "the SQLite file, else 'default')")
    for p in (add, listing, importing, exporting, demo):
        p.add_argument("--config", help="hall file (default: the bundled demo)")
        p.add_argument("--db", help=DB_HELP)
        p.add_argument("--hall", help=HALL_HELP)
    _simulate_parser(sub)
    return parser


def _simulate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser("simulate", help="run a day of the hall through the real queue (docs/estimates.md)")
    sim.add_argument("--config", help="hall file, TOML or JSON (default: the bundled demo)")
    sim.add_argument("--db", help="simulate the hall kept in this database instead (read only)")
    sim.add_argument("--profile", required=True, help="the day to simulate (examples/hari-sepi.toml, ...)")
    sim.add_argument("--seed", help="a seed, a range (1-5) or a list (1,4,9); default: the profile's")
    sim.add_argument("--out", default="var/simulate", help="folder for summary.json and report.html")
    sim.add_argument("--service", help="what-if: the service (code) asked about")
    sim.add_argument("--counters", type=int, help="what-if: waits of --service with this many counters on it")
    sim.add_argument("--target-p90", type=float, metavar="MINUTES",
                     help="what-if: counters --service needs per hour to keep its 90th percentile wait under this")
    sim.add_argument("--json", action="store_true", help="what-if: print the answer as JSON")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load(config=getattr(args, "config", None), db=getattr(args, "db", None),
                                 hall=getattr(args, "hall", None), host=getattr(args, "host", None),
                                 port=getattr(args, "port", None))
    except SettingsError as exc:
        print(f"giliran: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        if args.command == "serve":
            asyncio.run(_serve(settings))
        elif args.command == "check-config":
            return _check_config(args.file)
        elif args.command == "migrate-to":
            return _migrate_to(settings, Path(args.source))
        elif args.command == "demo-history":
            return asyncio.run(_demo_history(settings, args))
        elif args.command == "simulate":
            return asyncio.run(_simulate(settings, args))
        elif args.command == "hall":
            return asyncio.run(_hall_import(settings, args.file) if args.hall_command == "import"
                               else _hall_export(settings))
        elif args.user_command == "add":
            return asyncio.run(_user_add(settings, args))
        elif args.user_command == "list":
            return asyncio.run(_user_list(settings))
    except ConfigError as exc:
        print(f"giliran: hall file error: {exc}", file=sys.stderr)
        return 2
    except Unavailable as exc:  # the database cannot be reached (PostgreSQL away)
        print(f"giliran: {exc.message} ({shown(settings.db, settings.hall)})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _check_config(path: str) -> int:
    config = load_hall(path)
    quotas = sum(1 for s in config.services if s.daily_quota)
    print(f"{path}: OK: {config.hall.name} ({config.hall.timezone}); {len(config.agencies)} agencies, "
          f"{len(config.services)} services ({quotas} with a daily quota), {len(config.counters)} counters")
    return 0


# Python's cycle collector, tuned for a server (docs/scaling.md): with the defaults, the objects
# of requests waiting on a group commit live long enough to reach the oldest generation, and a
# full collection over everything (55,000 objects of libraries and templates) ran every ~0.75 s
# under load, stalling every request for 15+ ms.
GC_THRESHOLDS = (10000, 20, 100)


def _tune_gc() -> None:
    """Once started: what exists now lives as long as the server, so leave it out of every
    collection (gc.freeze); collect the young less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    limits = app[HALL].config.limits
    guard = ConnectionGuard(limits.connections_per_address, limits.request_timeout_s)

    async def follow_limits(old: HallConfig, new: HallConfig) -> None:
        guard.configure(new.limits.connections_per_address, new.limits.request_timeout_s)
    app[HALL].on_reconfigure(follow_limits)
    site = GuardedSite(runner, settings.host, settings.port, guard)
    await site.start()
    _tune_gc()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    for address in runner.addresses:
        host, port = address[0], address[1]
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::1", "::") else host
        log.info("Giliran berjalan di http://%s:%d (listening on %s:%d)", shown, port, host, port)
    print(f"GILIRAN_READY port={runner.addresses[0][1]}", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("Giliran berhenti")
        await runner.cleanup()


async def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.sim import run
    from kiosk.sim.profile import ProfileError, load_profile
    from kiosk.sim.whatif import WhatIfError
    from notifier.policy import AlertPolicy  # the composition root wires the alert room in

    logging.getLogger("kiosk").setLevel(logging.WARNING)  # a day is thousands of transactions
    try:
        config = hall_in_use(settings) if args.db else _hall_file(settings.config)
        profile = load_profile(args.profile)
        seeds = run.parse_seeds(args.seed, profile.seed)
        if args.service is None and (args.counters is not None or args.target_p90 is not None):
            raise ProfileError("--counters and --target-p90 need --service")
        if args.service is not None:
            if args.counters is None and args.target_p90 is None:
                raise ProfileError("--service needs --counters or --target-p90")
            if args.target_p90 is not None and not 0 < args.target_p90 <= 600:
                raise ProfileError("--target-p90 must be between 0 and 600 minutes")
            answer = await run.what_if(config, profile, args.service, args.counters, args.target_p90, seeds)
            print(json.dumps(answer, ensure_ascii=False) if args.json else run.what_if_text(answer))
            return 0
        await run.simulate(config, profile, seeds, Path(args.out), [lambda rt: AlertPolicy(rt.queue)])
    except (ProfileError, WhatIfError) as exc:
        print(f"giliran: {exc}", file=sys.stderr)
        return 2
    return 0


def _hall_file(path: Path) -> HallConfig:
    """A hall file: TOML, or JSON (what `giliran hall export` prints)."""
    if path.suffix.lower() != ".json":
        return load_hall(path)
    try:
        return parse_hall(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read as JSON: {exc}") from None


async def _hall_import(settings: Settings, path: str) -> int:
    config = load_hall(path)
    hall = hall_id(settings, config)
    store = create_store(settings.db, hall=hall)
    await store.open()
    try:
        async with store.transaction() as q:
            now = SystemClock().now()
            await q.set_setting(HALL_KEY, json.dumps(config.raw, ensure_ascii=False), now, "cli")
            await q.audit(at=now, username="cli", action="hall", detail=f"import {path}"[:200])
    finally:
        await store.close()
    print(f"{store.path}: hall replaced with {path} ({config.hall.name}); restart the server to use it")
    return 0


async def _hall_export(settings: Settings) -> int:
    print(json.dumps(hall_in_use(settings, hall=hall_id(settings)).raw, ensure_ascii=False, indent=2))
    return 0


async def _demo_history(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.reports.demo import days_before, write_history  # only this command needs the simulator

    if not 1 <= args.days <= 3660 or not 1 <= args.per_day <= 100_000:
        print("giliran: --days must be 1-3660 and --per-day 1-100000", file=sys.stderr)
        return 2
    hall = hall_id(settings)
    config = hall_in_use(settings, hall=hall)
    store = create_store(settings.db, hall=hall, synchronous="NORMAL")
    await store.open()
    days = list(days_before(datetime.now(config.hall.tz).date(), args.days))
    try:
        written, tickets, skipped = await write_history(store, config, days, args.per_day, args.seed,
                                                        lambda text: print(text, flush=True))
    finally:
        await store.close()
    print(f"{store.path}: {tickets} tickets on {written} days from {days[0]} to {days[-1]} "
          f"({skipped} days that had tickets were left as they were)")
    return 0


async def _open_for_users(settings: Settings) -> tuple[HallConfig, Store]:
    hall = hall_id(settings)
    config = hall_in_use(settings, hall=hall)
    store = create_store(settings.db, hall=hall)
    await store.open()
    return config, store


async def _user_add(settings: Settings, args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Kata sandi: ")
        if password != getpass.getpass("Ulangi kata sandi: "):
            print("giliran: kata sandi tidak sama", file=sys.stderr)
            return 1
    counters = [c.strip() for c in args.counters.split(",") if c.strip()]
    agencies = [a.strip() for a in args.agencies.split(",") if a.strip()]
    config, store = await _open_for_users(settings)
    try:
        user = await StaffAuth(store, config, SystemClock()).add_user(args.name, password, args.role, counters,
                                                                     config, agencies)
    except DomainError as exc:
        print(f"giliran: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    limited = f"; agencies: {', '.join(user.agencies)}" if user.agencies else ""
    print(f"user {user.username} added ({user.role}; counters: {', '.join(user.counters) or 'all'}{limited})")
    return 0


async def _user_list(settings: Settings) -> int:
    _, store = await _open_for_users(settings)
    try:
        users = await store.reads.users()
    finally:
        await store.close()
    for user in users:
        counters = ",".join(user.counters) or "-"
        agencies = ",".join(user.agencies) or "-"
        state = "disabled" if user.disabled else "active"
        print(f"{user.username}\t{user.role}\t{counters}\t{agencies}\t{state}")
    if not users:
        print("no users yet: giliran user add NAME --role admin --password-stdin")
    return 0


def _migrate_to(settings: Settings, source: Path) -> int:
    """Copy a hall's SQLite database into its schema of a PostgreSQL database and compare the counts."""
    from kiosk.storage.postgres.dsn import locate
    from kiosk.storage.postgres.transfer import TransferError, migrate_to

    if not is_shared(settings.db):
        print("giliran: --db must be a PostgreSQL URL (postgresql://user:password@host:port/name)", file=sys.stderr)
        return 2
    hall = settings.hall
    if hall is None and source.exists():
        stored = stored_setting_of(source, HALL_KEY)
        hall = json.loads(stored).get("hall", {}).get("id") if stored else None
    try:
        target = locate(str(settings.db), hall)
        result = asyncio.run(migrate_to(source, target))
    except (TransferError, ValueError, Unavailable) as exc:
        print(f"giliran: migrate-to: {exc}", file=sys.stderr)
        return 1
    width = max(len(t) for t in result.counts)
    for table, (lite, pg) in result.counts.items():
        print(f"{table:<{width}}  {lite:>9}  {pg:>9}  {'ok' if lite == pg else 'DIFFERENT'}")
    print(f"{source} -> {target.shown}: every table copied and counted; serve the hall with "
          f"--db '<the same URL>' --hall {target.hall}")
    return 0
