"""The `dsom` command."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dsom.kit.settings import get_settings

app = typer.Typer(
    help="DSOM, the State Online Gambling Monitoring System.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
tokens_app = typer.Typer(help="Officials' API tokens.", no_args_is_help=True)
keys_app = typer.Typer(
    help="Organizers' access keys for the data-collection API.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(tokens_app, name="tokens")
app.add_typer(keys_app, name="keys")
ledger_app = typer.Typer(help="The organizers' ledgers (protocol §4).", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
console = Console(stderr=True)
T = TypeVar("T")


def _engine() -> Any:
    from dsom.kit.db import make_engine

    settings = get_settings()
    return make_engine(settings.database_url, sqlite_cache_mb=settings.sqlite_cache_mb)


def _migrated_engine() -> Any:
    """The engine of a database that has a schema, or a clear error."""
    from dsom.kit.migrate import current_revision

    engine = _engine()
    if current_revision(engine) is None:
        _fail(
            f"the database {get_settings().database_url} has no DSOM schema yet: "
            "run `dsom db upgrade` (or `dsom demo`) first"
        )
    return engine


def _in_transaction(call: Callable[[Any], T], *, exit_code: int = 1) -> T:
    """`call(conn)` in one transaction on the migrated database; a DomainError is a clear
    message and exit `exit_code`."""
    from dsom.kit.errors import DomainError

    try:
        with _migrated_engine().begin() as conn:
            return call(conn)
    except DomainError as exc:
        _fail(exc.message, exit_code)
        raise  # unreachable: _fail exits


def _fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to the newest schema (or REVISION)."""
    from dsom.kit.migrate import upgrade

    upgrade(_engine(), revision)
    console.print(f"database at [bold]{revision}[/bold]")


@db_app.command("rebuild-rollups")
def db_rebuild_rollups() -> None:
    """Recompute the report rollups the ingest engine keeps by day (daily sums, hours with
    operations, daily rejections, distinct-player counts) from the hourly and player
    tables, in one transaction: after a restore or a manual repair. Servers may keep
    running; their commits wait until it is done."""
    from dsom.ingest.repository import REPORT_ROLLUPS, IngestStore

    store = IngestStore(_migrated_engine())
    try:
        store.rebuild_report_rollups()
    finally:
        store.close()
    console.print(f"rebuilt {', '.join(REPORT_ROLLUPS)}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int | None, typer.Option(help="server processes")] = None,
    migrate: Annotated[bool, typer.Option(help="migrate the database first")] = True,
) -> None:
    """Run the whole system: API, offices, reports (default 127.0.0.1:8000)."""
    from dsom.kit import logs
    from dsom.kit.migrate import upgrade

    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    if migrate:
        upgrade(_engine())
    host, port = host or settings.host, port or settings.port
    count = workers if workers is not None else settings.workers
    if count < 1:
        _fail("--workers must be at least 1", 2)
    console.print(
        f"DSOM listening on [bold]http://{host}:{port}[/bold] "
        f"(API docs at http://{host}:{port}/docs)"
        + (f", {count} processes sharing the organizers" if count > 1 else "")
    )
    from dsom.serving import serve as run

    run(host, port, count, settings.log_level, settings.log_format)


@app.command()
def demo(
    organizers: Annotated[int, typer.Option(help="organizers in the demo market")] = 50,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Migrate, load the demo market if the database is empty, and serve."""
    from dsom.demo.market import is_empty
    from dsom.kit.migrate import upgrade

    engine = _engine()
    upgrade(engine)
    with engine.begin() as conn:
        empty = is_empty(conn)
    settings = get_settings()
    tokens_file = settings.keys_out.parent / "demo-tokens.json"
    if empty:
        seed_demo(organizers=organizers, keys_out=settings.keys_out, reset=False)
        tokens_file.write_text(json.dumps(_demo_tokens(engine), indent=1) + "\n")
        tokens_file.chmod(0o600)
    else:
        console.print(f"the database already holds a market; keys file: {settings.keys_out}")
    if tokens_file.exists():
        console.print(f"officials' API tokens for trying the API: [bold]{tokens_file}[/bold]")
    pki_folder = settings.keys_out.parent / "pki"
    if not empty and pki_folder.is_dir():
        console.print(f"demo people's key files (password demo): [bold]{pki_folder}[/bold]")
    serve(host=host, port=port, workers=None, migrate=False)


def _demo_tokens(engine: Any) -> dict[str, str]:
    """A regulator's and a tax official's token, for a newcomer to try the API with."""
    from dsom.auth.tokens import create_token

    with engine.begin() as conn:
        return {
            role: create_token(conn, role=role, name=f"demo {role}").token
            for role in ("regulator", "tax")
        }


@app.command("seed-demo")
def seed_demo(
    organizers: Annotated[int, typer.Option(help="how many organizers", min=1, max=100_000)] = 50,
    keys_out: Annotated[Path, typer.Option(help="where to write the keys file")] = Path(
        "var/keys.json"
    ),
    reset: Annotated[bool, typer.Option(help="empty the database first")] = False,
) -> None:
    """Fill an empty database with a realistic demo market and write its keys file."""
    from dsom.demo import market as demo_market
    from dsom.demo import people as demo_people
    from dsom.kit.migrate import upgrade
    from dsom.kit.time import today_kyiv

    started = time.monotonic()
    engine = _engine()
    upgrade(engine)
    with engine.begin() as conn:
        if not demo_market.is_empty(conn):
            if not reset:
                _fail(
                    "the database already holds registers data; nothing was changed. "
                    "Run `dsom seed-demo --reset` to empty it and seed anew."
                )
            demo_market.reset(conn)
            console.print("emptied the database")
    market = demo_market.generate(organizers, today=today_kyiv())
    with _progress() as bar:
        task = bar.add_task("seeding", total=market.count() + len(market.later_status))

        def step(what: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"seeding {what}")

        with engine.begin() as conn:
            demo_market.load(conn, market, progress=step)
            api_keys = demo_market.issue_keys(conn, market)
            people = demo_people.demo_people(market.rows["organizers"])
            demo_people.create_people(conn, people)
            demo_people.write_pki(people, keys_out.parent / demo_people.PKI_FOLDER)
    keys = demo_market.keys_file(market, api_keys)
    keys["people"] = demo_people.keys_file_entries(people)
    keys_out.parent.mkdir(parents=True, exist_ok=True)
    keys_out.write_text(json.dumps(keys, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    counts = ", ".join(f"{len(rows)} {name}" for name, rows in market.rows.items())
    console.print(
        f"seeded {counts} in {time.monotonic() - started:.1f} s; keys file: [bold]{keys_out}[/bold]"
    )
    _say_demo_pki(keys_out.parent / demo_people.PKI_FOLDER, len(people))


def _say_demo_pki(folder: Path, count: int) -> None:
    """Where the demo people's key files are, and whether the server trusts their CA."""
    ca = folder / "ca.pem"
    console.print(
        f"{count} demo people's key files (password [bold]demo[/bold]) and the demo CA: "
        f"[bold]{folder}[/bold]"
    )
    trusted, _ = get_settings().trusted_ca_files()
    if not any(p.resolve() == ca.resolve() for p in trusted):
        console.print(
            f"[yellow]note:[/yellow] DSOM trusts {', '.join(map(str, trusted))}, not this CA: "
            f"set DSOM_QES_TRUSTED_CAS={ca} (and DSOM_QES_CRLS={folder / 'crl.pem'}) "
            "for the demo people to log in"
        )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@tokens_app.command("create")
def tokens_create(
    role: Annotated[str, typer.Option(help="regulator or tax")],
    name: Annotated[str, typer.Option(help="whose token it is")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Create an official's API token; its text is shown once."""
    from dsom.auth.tokens import create_token

    issued = _in_transaction(
        lambda conn: create_token(conn, role=role, name=name or f"{role} token"), exit_code=2
    )
    if as_json:
        sys.stdout.write(json.dumps(issued.as_dict()) + "\n")
    else:
        console.print(
            f"token [bold]{issued.id}[/bold] for role {issued.role}; "
            "copy it now, it is not shown again:"
        )
        sys.stdout.write(issued.token + "\n")


@tokens_app.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    from dsom.auth.tokens import list_tokens

    with _migrated_engine().begin() as conn:
        for row in list_tokens(conn):
            state = "revoked" if row["revoked_at"] else "active"
            sys.stdout.write(
                f"{row['id']}\t{row['role']}\t{state}\t{row['name']}\t"
                f"last used {row['last_used_at'] or 'never'}\n"
            )


@tokens_app.command("revoke")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token."""
    from dsom.auth.tokens import revoke_token

    _in_transaction(lambda conn: revoke_token(conn, token_id))
    console.print(f"token {token_id} revoked")


@keys_app.command("create")
def keys_create(
    organizer: Annotated[str, typer.Option(help="the organizer's EDRPOU code")],
    name: Annotated[str, typer.Option(help="what the key is for")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Create an access key for an organizer; its secret is shown once."""
    from dsom.auth.keys import create_key

    issued = _in_transaction(
        lambda conn: create_key(
            conn, organizer=organizer, name=name or "access key", created_by="cli"
        ),
        exit_code=2,
    )
    if as_json:
        sys.stdout.write(json.dumps(issued.as_dict()) + "\n")
    else:
        console.print(
            f"access key [bold]{issued.id}[/bold] for organizer {organizer}; "
            "copy the secret now, it is not shown again:"
        )
        sys.stdout.write(issued.secret + "\n")


@keys_app.command("deactivate")
def keys_deactivate(key_id: str) -> None:
    """Deactivate an access key: refused by every server within a second."""
    from dsom.auth.keys import deactivate_key

    _in_transaction(lambda conn: deactivate_key(conn, key_id))
    console.print(f"access key {key_id} deactivated")


@keys_app.command("list")
def keys_list(
    organizer: Annotated[str | None, typer.Option(help="only this organizer's keys")] = None,
) -> None:
    """List access keys (never their secrets), with when each was last used."""
    from dsom.auth.keys import list_keys

    with _migrated_engine().begin() as conn:
        for row in list_keys(conn, organizer):
            state = "deactivated" if row["deactivated_at"] else "active"
            sys.stdout.write(
                f"{row['id']}\t{row['organizer']}\t{state}\t{row['name']}\t"
                f"last used {row['last_used_at'] or 'never'}\n"
            )


@ledger_app.command("verify")
def ledger_verify(
    organizer: Annotated[str | None, typer.Option(help="only this organizer's chain")] = None,
) -> None:
    """Recompute the ledgers from the stored operations; exit 1 at the first bad entry."""
    from dsom.ingest.verify import verify

    started = time.monotonic()
    with console.status("verifying the ledgers…") as status:

        def step(org: str, done: int) -> None:
            status.update(f"verifying the ledgers… {done:,} entries (organizer {org})")

        checked, broken = verify(_migrated_engine(), organizer, step)
    if broken is not None:
        console.print(
            f"[red]ledger broken[/red]: organizer {broken.organizer}, seq {broken.seq} "
            f"(operation {broken.operation_id}): {broken.reason}"
        )
        raise typer.Exit(1)
    console.print(
        f"ledgers verified: {checked:,} entries match ({time.monotonic() - started:.1f} s)"
    )


@app.command()
def simulate(
    keys: Annotated[
        Path, typer.Option(help="the keys file of the organizers to play (dsom seed-demo)")
    ],
    url: Annotated[str, typer.Option(help="the DSOM server")] = "http://127.0.0.1:8000",
    rate: Annotated[
        float, typer.Option(help="operations per second in all; 0: as fast as it takes", min=0)
    ] = 1000,
    duration: Annotated[float, typer.Option(help="seconds to run; 0: until Ctrl-C", min=0)] = 10,
    batch: Annotated[int, typer.Option(help="operations per request", min=1, max=10_000)] = 100,
    concurrency: Annotated[
        int, typer.Option(help="requests under way at once", min=1, max=1024)
    ] = 4,
    seed: Annotated[int, typer.Option(help="the same seed plays the same traffic")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the summary as JSON on stdout")
    ] = False,
) -> None:
    """Play organizers sending realistic traffic; show progress, then a summary.

    Exit 0 if every request was answered 200 and no operation was rejected, else 1.
    """
    from dsom.ingest.simulate import Options, SimulateError, load_keys
    from dsom.ingest.simulate import simulate as run_simulation

    options = Options(
        url=url.rstrip("/"),
        rate=rate,
        duration=duration,
        batch=batch,
        concurrency=concurrency,
        seed=seed,
    )
    try:
        code = run_simulation(
            load_keys(keys), options, console=console, out=Console(), as_json=as_json
        )
    except SimulateError as exc:
        _fail(str(exc), 2)
        return
    raise typer.Exit(code)


def main() -> None:
    """Entry point of the `dsom` console script."""
    app()
