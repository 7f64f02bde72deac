"""`dsom simulate`: organizers' systems sending realistic traffic to a DSOM server.

C workers share the organizers round-robin, one request of an organizer at a time (so
a win never overtakes its bet), and send `POST /api/v1/operations` with that
organizer's key, paced by one token bucket for the whole run. A live line shows how
it goes; the summary says what came of it. Retrying is always safe (protocol.md §2.2),
so a 503 or 429 is waited out (Retry-After) and the same request sent again, and so is
a connection the server dropped.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import signal
import socket
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from dsom import __version__
from dsom.ingest.traffic import Traffic
from dsom.kit.time import utcnow

OPERATIONS = "/api/v1/operations"
LEDGER = "/api/v1/ledger"
TYPES = ("bet", "win", "refund", "deposit", "withdrawal")
SAMPLES = 8  # rejection codes whose first message the summary shows
REFRESH = 0.25  # seconds between redraws of the live line
PLAIN_EVERY = 5.0  # seconds between progress lines when not on a terminal
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
CHECK_WITHIN = 30.0  # seconds for the server to answer the check of every key
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class SimulateError(Exception):
    """Something that stops the run before it starts, said so a person can act on it."""


@dataclass(frozen=True)
class Options:
    """What `dsom simulate` was asked to do."""

    url: str = "http://127.0.0.1:8000"
    rate: float = 1000.0  # operations per second over all workers; 0: as fast as possible
    duration: float = 10.0  # seconds; 0: until Ctrl-C
    batch: int = 100
    concurrency: int = 4
    seed: int = 0


@dataclass
class Totals:
    """What the run sent and what the server answered."""

    requests: int = 0  # answered 200
    operations: int = 0  # in requests answered 200
    sent: int = 0  # operations sent, answered or not
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    rejections: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)  # code: its first rejection
    http_errors: Counter[str] = field(default_factory=Counter)  # "503 unavailable": times
    error_messages: dict[str, str] = field(default_factory=dict)  # the first of each kind
    problems: list[str] = field(default_factory=list)  # what stopped an organizer or the run
    latencies: list[float] = field(default_factory=list)  # seconds, per request answered 200
    resent: int = 0  # requests sent again at once after the server dropped the connection
    abandoned: int = 0  # requests the run stopped before they were answered 200
    elapsed: float = 0.0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        """Every request answered 200, nothing rejected, nothing left unanswered."""
        return not (self.rejected or self.http_errors or self.problems or self.abandoned) and bool(
            self.requests
        )

    def latency_ms(self) -> dict[str, float | None]:
        """p50, p90, p99 and max latency of the requests answered 200, in ms."""
        ordered = sorted(self.latencies)
        return {
            "p50": _percentile(ordered, 0.50),
            "p90": _percentile(ordered, 0.90),
            "p99": _percentile(ordered, 0.99),
            "max": ordered[-1] * 1000 if ordered else None,
        }


def load_keys(path: Path) -> dict[str, Any]:
    """The keys file (interfaces.md), or SimulateError saying what is wrong with it."""
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SimulateError(
            f"no keys file {path}: `dsom seed-demo --keys-out {path}` writes one"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimulateError(f"cannot read the keys file {path}: {exc}") from None
    if not isinstance(keys, dict) or not isinstance(keys.get("organizers"), list):
        raise SimulateError(f'{path} is not a keys file: expected {{"organizers": [...]}}')
    return keys


class _Pacer:
    """The token bucket of the whole run: at most `rate` operations a second."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.next = time.monotonic()

    def delay(self, operations: int) -> float:
        """Reserve `operations` tokens; how long to wait before spending them."""
        now = time.monotonic()
        start = max(self.next, now)  # an idle spell is not saved up for a burst
        self.next = start + operations / self.rate
        return start - now


class _Halt(Exception):
    """The server cannot be reached at all: nothing to simulate against."""


class Simulation:
    """One run: its workers, its pacing, its live line and its totals."""

    client: httpx.AsyncClient

    def __init__(
        self,
        traffic: Traffic,
        options: Options,
        *,
        console: Console,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Prepare a run of `traffic` as `options` say; nothing is sent yet."""
        self.traffic = traffic
        self.options = options
        self.console = console
        self.transport = transport
        self.totals = Totals()
        self.recent: deque[float] = deque(maxlen=2000)  # latencies for the live line
        self.rates: deque[tuple[float, int]] = deque()  # (time, accepted) for accepted/s
        self.headers = {
            code: {
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
            }
            for code, key in traffic.api_keys.items()
        }
        self.playing: list[str] = list(traffic.organizers)
        self.reached = False  # the server has answered at least once
        self.in_flight = 0
        self.started = time.monotonic()
        self.stopping_since: float | None = None
        self.pacer = _Pacer(options.rate) if options.rate > 0 else None
        # Made outside the loop: since Python 3.10 they bind to the loop that first uses them.
        self._stop = asyncio.Event()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._main: asyncio.Task[Any] | None = None

    # --- running ------------------------------------------------------------------------

    async def run(self) -> Totals:
        """Check the keys, play until the duration is over or Ctrl-C; the totals."""
        loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        try:
            loop.add_signal_handler(signal.SIGINT, self._interrupt)
            handles_sigint = True
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            handles_sigint = False
        limits = httpx.Limits(
            max_connections=self.options.concurrency,
            max_keepalive_connections=self.options.concurrency,
        )
        try:
            async with httpx.AsyncClient(
                base_url=self.options.url,
                timeout=TIMEOUT,
                limits=limits,
                transport=self.transport,
                headers={"User-Agent": f"dsom-simulate/{__version__}"},
            ) as client:
                self.client = client
                try:
                    await asyncio.wait_for(self._check_keys(), CHECK_WITHIN)
                except TimeoutError:
                    self._problem(
                        f"{self.options.url} did not answer the check of the keys "
                        f"within {CHECK_WITHIN:g} s"
                    )
                    self._halt()
                if self.playing and not self._stop.is_set():
                    await self._play()
        finally:
            if handles_sigint:
                loop.remove_signal_handler(signal.SIGINT)
            self.totals.elapsed = time.monotonic() - self.started
        return self.totals

    async def _check_keys(self) -> None:
        """Ask each organizer's ledger head: a key refused now is named now, not mid-run."""
        if not self.playing:
            return
        first, *others = self.playing
        await self._check_key(first)  # alone: a server that is down says so once
        if self._stop.is_set():
            return
        gate = asyncio.Semaphore(self.options.concurrency)

        async def check(code: str) -> None:
            async with gate:
                await self._check_key(code)

        await asyncio.gather(*(check(code) for code in others))

    async def _check_key(self, code: str) -> None:
        got = await self._request("GET", LEDGER, code)
        if got is None:
            return
        response, _ = got
        if response.status_code != 200:
            self._refused(code, response)

    async def _play(self) -> None:
        self.started = time.monotonic()
        for code in self.playing:
            self._queue.put_nowait(code)
        duration = self.options.duration
        loop = asyncio.get_running_loop()
        timer = loop.call_later(duration, self._halt) if duration else None
        self._workers = [
            asyncio.create_task(self._worker()) for _ in range(self.options.concurrency)
        ]
        display = asyncio.create_task(self._display())
        try:
            await self._stop.wait()
            # Let the requests under way be answered: what was sent is counted.
            _, late = await asyncio.wait(self._workers, timeout=TIMEOUT.read or 30.0)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
        finally:
            if timer is not None:
                timer.cancel()
            for task in self._workers:
                task.cancel()
            display.cancel()
            await asyncio.gather(display, return_exceptions=True)

    def _halt(self) -> None:
        """Send nothing more; the requests under way finish."""
        if self._stop.is_set():
            return
        self.stopping_since = time.monotonic()
        self._stop.set()
        for _ in range(self.options.concurrency):
            self._queue.put_nowait(None)

    def _interrupt(self) -> None:
        """Ctrl-C: stop sending and let what is under way finish; twice: stop at once."""
        if self._stop.is_set():
            for task in self._workers:
                task.cancel()
            if not self._workers and self._main is not None:  # still checking the keys
                self._main.cancel()
            return
        self.totals.interrupted = True
        self._halt()

    async def _worker(self) -> None:
        while True:
            code = await self._queue.get()
            if code is None or self._stop.is_set():
                return
            keep = True
            try:
                keep = await self._send_batch(code)
            except Exception as exc:  # a bug here must not pass for a quiet organizer
                self._problem(f"organizer {code}: unexpected {type(exc).__name__}: {exc}")
                self._halt()
                raise
            finally:
                if keep and not self._stop.is_set():
                    self._queue.put_nowait(code)

    async def _send_batch(self, code: str) -> bool:
        """One request of this organizer; False if it is to play no more."""
        size = self.options.batch
        if self.pacer is not None and await self._stopped_within(self.pacer.delay(size)):
            return False
        ops = self.traffic.next_batch(code, size)
        body = _encode({"operations": ops})
        self.totals.sent += len(ops)
        self.in_flight += 1
        try:
            got = await self._request("POST", OPERATIONS, code, body)
        except asyncio.CancelledError:  # Ctrl-C twice: this one is left unanswered
            self.totals.abandoned += 1
            raise
        finally:
            self.in_flight -= 1
        if got is None:  # the run stopped while this request waited to be sent again
            self.totals.abandoned += 1
            self.traffic.forget_open_bets(code)
            return False
        response, latency = got
        if response.status_code == 200:
            self._count(ops, _decode(response.content), latency)
            return True
        self.traffic.forget_open_bets(code)  # its bets were not stored: no wins on them
        if response.status_code in (401, 403):
            self._refused(code, response)
            return False
        self._note_error(response)
        if response.status_code < 500:  # what we send is wrong: sending more will not help
            code_, message = _error_of(response)
            self._problem(f"HTTP {response.status_code} {code_}: {message}")
            self._halt()
            return False
        return not await self._stopped_within(1.0)

    async def _request(
        self, method: str, path: str, code: str, body: bytes | None = None
    ) -> tuple[httpx.Response, float] | None:
        """The answer and its latency, after waiting out 503/429 and dropped connections.

        None if the run stopped before an answer worth keeping came.
        """
        pause = 0.5
        dropped_once = False
        while True:
            began = time.perf_counter()
            try:
                response = await self.client.request(
                    method, path, content=body, headers=self.headers[code]
                )
            except httpx.TransportError as exc:
                if self.reached and not dropped_once and not isinstance(exc, httpx.ConnectError):
                    # A kept-alive connection the server closed as we sent: send it again.
                    dropped_once = True
                    self.totals.resent += 1
                    continue
                self._note(_transport_label(exc), str(exc) or type(exc).__name__)
                if not self.reached:
                    self._problem(self._unreachable(exc))
                    self._halt()
                    return None
                if await self._stopped_within(pause):
                    return None
                pause = min(pause * 2, 5.0)
                continue
            latency = time.perf_counter() - began
            self.reached = True
            if response.status_code in (429, 503):
                self._note_error(response)
                if await self._stopped_within(_retry_after(response)):
                    return None
                continue
            return response, latency

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait `seconds`, or less if the run stops; whether it did."""
        if seconds <= 0:
            return self._stop.is_set()
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            return False
        return True

    # --- counting -----------------------------------------------------------------------

    def _count(self, ops: list[dict[str, Any]], answer: Mapping[str, Any], latency: float) -> None:
        totals = self.totals
        totals.requests += 1
        totals.operations += len(ops)
        totals.accepted += int(answer.get("accepted", 0))
        totals.duplicates += int(answer.get("duplicates", 0))
        totals.rejected += int(answer.get("rejected", 0))
        totals.by_type.update(op["type"] for op in ops)
        for error in answer.get("errors") or ():
            code = str(error.get("code"))
            totals.rejections[code] += 1
            if code not in totals.samples and len(totals.samples) < SAMPLES:
                index = error.get("index")
                op = ops[index] if isinstance(index, int) and 0 <= index < len(ops) else {}
                totals.samples[code] = (
                    f"{op.get('type', 'operation')} {error.get('operation_id')}"
                    f"{' (' + error['field'] + ')' if error.get('field') else ''}: "
                    f"{error.get('message')}"
                )
        totals.latencies.append(latency)
        self.recent.append(latency)

    def _note_error(self, response: httpx.Response) -> None:
        code, message = _error_of(response)
        self._note(f"{response.status_code} {code}", message)

    def _note(self, label: str, message: str) -> None:
        self.totals.http_errors[label] += 1
        self.totals.error_messages.setdefault(label, message)

    def _refused(self, code: str, response: httpx.Response) -> None:
        """An organizer whose key the server refuses: say why, and play it no more."""
        error, message = _error_of(response)
        if response.status_code not in (401, 403):
            self._note_error(response)
            self._problem(
                f"{self.options.url}{LEDGER} answered HTTP {response.status_code} {error}: "
                f"{message}. Is {self.options.url} a DSOM server?"
            )
            self._halt()
            return
        self._note_error(response)
        hint = (
            "is the keys file from the seeding of this server's database?"
            if response.status_code == 401
            else "the keys file says active, the registers do not"
        )
        self._problem(
            f"organizer {code} ({self.traffic.names.get(code, code)}) plays no more: "
            f"HTTP {response.status_code} {error}: {message} ({hint})"
        )
        if code in self.playing:
            self.playing.remove(code)
        if not self.playing:
            self._halt()

    def _problem(self, message: str) -> None:
        if message not in self.totals.problems:
            self.totals.problems.append(message)

    def _unreachable(self, exc: httpx.TransportError) -> str:
        url = self.options.url
        return (
            f"cannot reach DSOM at {url} ({_transport_label(exc)}). "
            "Is the server running? Start it with `dsom serve`, or point --url at it."
        )

    # --- showing ------------------------------------------------------------------------

    async def _display(self) -> None:
        """The live line: redrawn a few times a second on a terminal, else every few seconds."""
        if self.console.is_terminal and not self.console.is_dumb_terminal:
            from rich.live import Live

            with Live(
                self.progress_line(), console=self.console, auto_refresh=False, transient=False
            ) as live:
                try:
                    while True:
                        await asyncio.sleep(REFRESH)
                        live.update(self.progress_line(), refresh=True)
                finally:
                    live.update(self.progress_line(), refresh=True)
        else:
            try:
                while True:
                    await asyncio.sleep(PLAIN_EVERY)
                    self.console.print(self.progress_line())
            finally:
                self.console.print(self.progress_line())

    def accepted_per_s(self) -> float:
        """Accepted operations a second over the last two seconds (the whole run at first)."""
        now = time.monotonic()
        rates = self.rates
        rates.append((now, self.totals.accepted))
        while len(rates) > 2 and now - rates[1][0] >= 2.0:
            rates.popleft()
        then, accepted = rates[0]
        if now - then < 1.0:
            then, accepted = self.started, 0
        return (self.totals.accepted - accepted) / max(now - then, 1e-6)

    def progress_line(self) -> RenderableType:
        """One line: elapsed, sent, accepted/s, duplicates, rejected, errors, latency."""
        t = self.totals
        elapsed = time.monotonic() - self.started
        duration = self.options.duration
        recent = sorted(self.recent)
        line = Text()
        line.append("sent ", "dim").append(f"{t.sent:,}", "bold")
        line.append("  accepted/s ", "dim").append(f"{self.accepted_per_s():,.0f}", "bold green")
        line.append("  dup ", "dim").append(f"{t.duplicates:,}", "yellow" if t.duplicates else "")
        line.append("  rejected ", "dim").append(
            f"{t.rejected:,}", "bold red" if t.rejected else ""
        )
        line.append("  errors ", "dim")
        if t.http_errors:
            line.append(
                " ".join(f"{k.split()[0]}×{v}" for k, v in sorted(t.http_errors.items())),
                "bold red",
            )
        else:
            line.append("0")
        line.append("  p50 ", "dim").append(_ms(_percentile(recent, 0.50)))
        line.append("  p99 ", "dim").append(_ms(_percentile(recent, 0.99)))
        if self.stopping_since is not None and self.in_flight:
            line.append(f"  finishing {self.in_flight} request(s)…", "yellow")
        grid = Table.grid(padding=(0, 1))
        if duration:
            grid.add_row(
                Text(f"{min(elapsed, duration):5.1f}/{duration:g} s", style="bold"),
                ProgressBar(
                    total=duration,
                    completed=min(elapsed, duration),
                    width=20,
                    complete_style="cyan",
                    finished_style="green",
                ),
                line,
            )
        else:
            grid.add_row(Text(f"{elapsed:7.1f} s", style="bold"), line)
        return grid


def simulate(
    keys: Mapping[str, Any],
    options: Options,
    *,
    console: Console,
    out: Console,
    as_json: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Run `dsom simulate`: the live line on `console`, the summary on `out`; the exit code."""
    run_id = f"sim-{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    traffic = Traffic(keys, seed=options.seed, run_id=run_id)
    if options.rate and options.batch > options.rate:
        # A request at least every second, or the line would sit still between them.
        options = replace(options, batch=max(1, int(options.rate)))
        console.print(f"[dim]batches of {options.batch} to keep to --rate {options.rate:g}[/dim]")
    if not traffic.organizers:
        why = _skipped(traffic) or "the keys file lists none"
        raise SimulateError(f"no organizer in the keys file can send operations ({why})")
    console.print(_headline(traffic, options, run_id, len(keys["organizers"])))
    simulation = Simulation(traffic, options, console=console, transport=transport)
    try:
        totals = asyncio.run(simulation.run())
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C twice, or no asyncio handler
        totals = simulation.totals
        totals.interrupted = True
        totals.elapsed = time.monotonic() - simulation.started
    if as_json:
        out.print_json(data=summary_json(totals, traffic, options, run_id))
    else:
        out.print(summary(totals, traffic, options))
    return 0 if totals.ok else 1


def _headline(traffic: Traffic, options: Options, run_id: str, listed: int) -> Text:
    rate = f"{options.rate:,.0f} operations/s" if options.rate else "as fast as the server takes"
    how_long = f"for {options.duration:g} s" if options.duration else "until Ctrl-C"
    line = Text()
    line.append("simulating ", "bold")
    line.append(f"{len(traffic.organizers)} of {listed} organizers", "bold")
    skipped = _skipped(traffic)
    if skipped:
        line.append(f" (skipped: {skipped})", "dim")
    line.append(f" → {options.url}\n")
    line.append(
        f"{rate} {how_long}, batches of {options.batch}, {options.concurrency} at a time; "
        f"operation ids {run_id}-<n>; Ctrl-C stops",
        "dim",
    )
    if options.concurrency > len(traffic.organizers):
        line.append(
            f"\nnote: one request per organizer at a time, so at most "
            f"{len(traffic.organizers)} in flight",
            "yellow",
        )
    return line


def _skipped(traffic: Traffic) -> str:
    reasons = Counter(traffic.skipped.values())
    return ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))


def summary(totals: Totals, traffic: Traffic, options: Options) -> RenderableType:
    """The summary table, and the rejections and problems if there are any."""
    t = totals
    problems = [Text.assemble(("problem: ", "bold red"), problem) for problem in t.problems]
    if not t.sent and problems:  # it never started: the problem is the whole story
        return Group(*problems, Text("✗ nothing was sent", "bold red"))
    seconds = max(t.elapsed, 1e-9)
    table = Table(
        title="dsom simulate: summary",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_header=False,
        padding=(0, 1),
    )
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    ran = f"{t.elapsed:.1f} s" + (" (interrupted by Ctrl-C)" if t.interrupted else "")
    table.add_row("ran", ran)
    rate = f"at most {options.rate:,.0f} operations/s" if options.rate else "no rate limit"
    table.add_row(
        "organizers",
        f"{len(traffic.organizers)} through {options.url}: "
        f"{min(options.concurrency, len(traffic.organizers))} requests at "
        f"a time, {options.batch} operations each, {rate}",
    )
    answered = f"{t.requests:,} answered 200"
    if t.resent:
        answered += f", {t.resent} sent again after a dropped connection"
    if t.abandoned:
        answered += f", [red]{t.abandoned} left unanswered when the run stopped[/red]"
    table.add_row("requests", answered)
    kinds = ", ".join(f"{t.by_type[k]:,} {k}s" for k in TYPES if t.by_type[k])
    table.add_row("operations", f"{t.operations:,}" + (f": {kinds}" if kinds else ""))
    table.add_row("accepted", f"[bold green]{t.accepted:,}[/bold green]")
    table.add_row("accepted/s", f"[bold]{t.accepted / seconds:,.1f}[/bold]")
    table.add_row("duplicates", f"[yellow]{t.duplicates:,}[/yellow]" if t.duplicates else "0")
    table.add_row("rejected", f"[bold red]{t.rejected:,}[/bold red]" if t.rejected else "0")
    errors = Text()
    for label, n in sorted(t.http_errors.items()):
        errors.append("\n" if errors else "").append(f"{label} ×{n}", "bold red")
        if label.startswith(("429", "503")) or label in ("connection dropped", "timeout"):
            errors.append(" (sent again)", "dim")
        errors.append(f": {t.error_messages.get(label, '')}")
    table.add_row("HTTP errors", errors if t.http_errors else "none")
    lat = t.latency_ms()
    table.add_row(
        "latency",
        "  ".join(f"{name} {_ms(value)}" for name, value in lat.items()) if t.latencies else "–",
    )
    parts: list[RenderableType] = [table]
    if (
        options.rate
        and t.requests
        and not t.interrupted
        and t.accepted < 0.9 * options.rate * seconds
    ):
        parts.append(
            Text(
                f"note: below --rate {options.rate:g}: the requests under way waited for the "
                "server; more --concurrency or a larger --batch sends more at once",
                "yellow",
            )
        )
    if t.rejections:
        parts.append(Text("rejected operations by code: a valid run has none", style="bold red"))
        rejections = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
        rejections.add_column("code", style="red", no_wrap=True)
        rejections.add_column("operations", justify="right")
        rejections.add_column("the first one")
        for code, n in t.rejections.most_common():
            rejections.add_row(code, f"{n:,}", t.samples.get(code, ""))
        parts.append(rejections)
    parts.extend(problems)
    if t.ok:
        parts.append(Text("✓ every request answered 200, every operation accepted", "bold green"))
    else:
        faults = [
            f"{t.rejected:,} operations rejected" if t.rejected else "",
            f"{t.http_errors.total():,} answers other than 200" if t.http_errors else "",
            f"{t.abandoned:,} requests unanswered" if t.abandoned else "",
            f"{len(t.problems)} problem(s) above" if t.problems else "",
            "" if t.requests else "nothing was sent",
        ]
        parts.append(Text(f"✗ not a clean run: {', '.join(f for f in faults if f)}", "bold red"))
    return Group(*parts)


def summary_json(totals: Totals, traffic: Traffic, options: Options, run_id: str) -> dict[str, Any]:
    """The summary as data, for scripts (`--json`)."""
    t = totals
    return {
        "ok": t.ok,
        "url": options.url,
        "run_id": run_id,
        "organizers": len(traffic.organizers),
        "seconds": round(t.elapsed, 3),
        "interrupted": t.interrupted,
        "requests": t.requests,
        "operations": t.operations,
        "by_type": {k: t.by_type[k] for k in TYPES},
        "accepted": t.accepted,
        "accepted_per_s": round(t.accepted / max(t.elapsed, 1e-9), 1),
        "duplicates": t.duplicates,
        "rejected": t.rejected,
        "rejections": dict(t.rejections.most_common()),
        "first_rejections": t.samples,
        "http_errors": dict(sorted(t.http_errors.items())),
        "http_error_messages": t.error_messages,
        "resent": t.resent,
        "abandoned": t.abandoned,
        "problems": t.problems,
        "latency_ms": {k: None if v is None else round(v, 2) for k, v in t.latency_ms().items()},
    }


def _percentile(ordered: list[float], q: float) -> float | None:
    """The nearest-rank percentile of sorted seconds, in ms."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """The `{"error": {"code", "message"}}` of an answer, as well as it can be read."""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        text = response.text.strip().replace("\n", " ")[:200]
        return response.reason_phrase.lower().replace(" ", "_") or "error", text or "(no body)"


def _retry_after(response: httpx.Response) -> float:
    """Seconds the server asks to wait (Retry-After: seconds or an HTTP date); 1 if unsaid."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return 1.0
    try:
        return min(60.0, max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return min(60.0, max(0.0, (when - utcnow()).total_seconds()))


def _transport_label(exc: httpx.TransportError) -> str:
    """A few words for what went wrong on the wire."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
                return "connection refused"
            if isinstance(cause, socket.gaierror):
                return "unknown host"
            cause = cause.__cause__ or cause.__context__
        return "cannot connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "connection dropped"
