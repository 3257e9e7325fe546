"""What the benchmark sends and how it reads the answers; no servers are started here.

Signed requests are built the way Twilio builds them (form parameters, X-Twilio-Signature
over the exact URL the server sees) for 500 phone numbers walking real menu paths:

* SMS: every number texts its way through a fixed walk of the menus (a first text creates the
  session; every later one reads and updates it), each text with its own MessageSid.
* Voice: every number calls (a new CallSid per call), hears the welcome and walks the menus by
  key and once by speech, posting to the ``/voice/step?s=N`` action URL its last answer gave.

Requests are laid out in rounds, one step of every number per round, so that two steps of one
conversation are 500 requests apart and arrive in order at concurrency 16.
"""
from __future__ import annotations

import http.client
import itertools
import json
import math
import re
import shlex
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

ACCOUNT = "AC" + "b" * 32
HELPLINE = "+12025559000"
NUMBERS = 500

# A texter's walk: the first text gets the welcome, then facts, a series, the treatment menu,
# back, a person (nobody on duty in the benchmark), sources; words as well as digits.
SMS_WALK = ("hi", "1", "more", "more", "menu", "3", "2", "back", "1", "menu", "2", "next",
            "0", "menu", "sources", "menu")
# A caller's walk after the welcome: keys, and once speech instead of a key.
VOICE_WALK = (("Digits", "1"), ("Digits", "1"), ("Digits", "1"), ("Digits", "#"),
              ("SpeechResult", "treatment"), ("Digits", "1"), ("Digits", "9"))
# A good answer contains this; anything else (an empty <Response/> for a deduplicated retry,
# an error page) counts as an error.
EXPECT = {"sms": "<Message>", "voice": "<Gather"}


def phone_numbers(count: int = NUMBERS, prefix: str = "+1202555") -> list[str]:
    """``count`` distinct US numbers in E.164 (+1 and ten digits) starting with ``prefix``."""
    width = 12 - len(prefix)
    if count > 10 ** width:
        raise ValueError(f"{prefix} has room for {10 ** width} numbers, not {count}")
    return [f"{prefix}{i:0{width}d}" for i in range(count)]


@dataclass(frozen=True)
class Request:
    path: str              # with the query string, as posted
    params: dict[str, str]


def sms_params(number: str, body: str, sid: str) -> dict[str, str]:
    """The form Twilio posts for an incoming text."""
    return {"ToCountry": "US", "ToState": "DC", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "WASHINGTON", "FromZip": "", "SmsSid": sid, "FromState": "DC",
            "SmsStatus": "received", "FromCity": "WASHINGTON", "Body": body, "FromCountry": "US",
            "To": HELPLINE, "ToZip": "", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": ACCOUNT, "From": number, "ApiVersion": "2010-04-01"}


def voice_params(number: str, call_sid: str, **extra: str) -> dict[str, str]:
    """The form Twilio posts for a call (and, with Digits or SpeechResult, a Gather's answer)."""
    return {"AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": call_sid,
            "CallStatus": "in-progress", "Called": HELPLINE, "CalledCountry": "US",
            "Caller": number, "CallerCountry": "US", "Direction": "inbound", "From": number,
            "FromCountry": "US", "To": HELPLINE, "ToCountry": "US", **extra}


def sms_requests(numbers: list[str], count: int, salt: int = 0) -> list[Request]:
    """``count`` texts: round k sends step k of the walk from every number, in turn."""
    out: list[Request] = []
    sids = itertools.count()
    for step in itertools.count():
        body = SMS_WALK[step % len(SMS_WALK)]
        for number in numbers:
            if len(out) == count:
                return out
            sid = f"SM{salt:08x}{next(sids):024x}"
            out.append(Request("/sms", sms_params(number, body, sid)))
    raise AssertionError("unreachable")


def voice_requests(numbers: list[str], count: int, salt: int = 0) -> list[Request]:
    """``count`` call steps: every number calls, then each call goes through the walk a step
    per round; the action URL of step N is ``/voice/step?s=N``, as the app's <Gather> says."""
    out: list[Request] = []
    for generation in itertools.count():
        sids = [f"CA{salt:08x}{generation:012x}{i:012x}" for i in range(len(numbers))]
        for step in range(len(VOICE_WALK) + 1):
            for number, sid in zip(numbers, sids, strict=True):
                if len(out) == count:
                    return out
                if step == 0:
                    out.append(Request("/voice", voice_params(number, sid)))
                    continue
                name, value = VOICE_WALK[step - 1]
                extra = {name: value}
                if name == "SpeechResult":
                    extra["Confidence"] = "0.92"
                out.append(Request(f"/voice/step?s={step}", voice_params(number, sid, **extra)))
    raise AssertionError("unreachable")


def build(endpoint: str, count: int, salt: int = 0, numbers: list[str] | None = None) -> list[Request]:
    numbers = numbers or phone_numbers()
    return (sms_requests if endpoint == "sms" else voice_requests)(numbers, count, salt)


def signed_line(request: Request, base: str, validator: RequestValidator) -> str:
    """One request as the Lua script reads it: path, signature and form body, tab-separated."""
    signature = validator.compute_signature(base + request.path, request.params)
    return f"{request.path}\t{signature}\t{urlencode(request.params)}\n"


def write_requests(path: Path, requests: list[Request], base: str, token: str) -> Path:
    validator = RequestValidator(token)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(signed_line(r, base, validator) for r in requests)
    return path


def read_requests(path: Path) -> list[tuple[str, str, str]]:
    """The (path, signature, body) lines written by :func:`write_requests`."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            target, signature, body = line.rstrip("\n").split("\t", 2)
            out.append((target, signature, body))
    return out


# -- results ----------------------------------------------------------------------------------
@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    wrapped: int = 0        # times the request list was used up and started again

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict:
        return {**asdict(self), "rps": round(self.rps, 1), "error_count": self.error_count}


WRK_MARK = "BENCH_JSON "


def parse_wrk(output: str) -> Result:
    """The one line ``bench/wrk.lua`` prints in ``done()``."""
    for line in output.splitlines():
        if line.startswith(WRK_MARK):
            data = json.loads(line[len(WRK_MARK):])
            errors = {k: int(data[k]) for k in ("connect", "read", "write", "status", "timeout", "bad")}
            return Result(requests=int(data["requests"]), seconds=data["duration_us"] / 1e6,
                          p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                          max_ms=data["max_us"] / 1000,
                          errors={k: v for k, v in errors.items() if v},
                          wrapped=int(data["wrapped"]))
    raise ValueError("no BENCH_JSON line in wrk's output:\n" + output[-2000:])


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(p / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def python_client(host: str, port: int, lines: list[tuple[str, str, str]], expect: str,
                  concurrency: int, seconds: float) -> Result:
    """The fallback load generator when ``wrk`` is not installed: ``concurrency`` threads,
    each with one keep-alive connection, sending the requests in order for ``seconds``.
    It shares the CPU (and the GIL) with nothing but itself, yet on a small machine it takes
    cores from the server: compare ratios, not absolute figures, with it."""
    counter = itertools.count()
    stop_at = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors: dict[str, int] = {}
    wrapped = [0]
    lock = threading.Lock()

    def fail(kind: str) -> None:
        with lock:
            errors[kind] = errors.get(kind, 0) + 1

    def worker(mine: list[float]) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=15)
        while time.perf_counter() < stop_at:
            i = next(counter)
            if i and i % len(lines) == 0:
                wrapped[0] += 1
            target, signature, body = lines[i % len(lines)]
            started = time.perf_counter()
            try:
                conn.request("POST", target, body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature})
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                fail("read")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=15)
                continue
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                fail("status")
            elif expect.encode() not in data:
                fail("bad")
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(latencies[i],)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    values = sorted(v * 1000 for mine in latencies for v in mine)
    return Result(requests=len(values), seconds=elapsed, p50_ms=percentile(values, 50),
                  p99_ms=percentile(values, 99), max_ms=values[-1] if values else 0.0,
                  errors=errors, wrapped=wrapped[0])


# -- the server command -------------------------------------------------------------------
_VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def procfile_command(procfile: Path, env: dict, process: str = "web") -> list[str]:
    """The ``web:`` line of the Procfile as argv, with ``$VAR`` and ``${VAR:-default}``
    filled from ``env`` as the shell would."""
    for line in Path(procfile).read_text(encoding="utf-8").splitlines():
        if line.startswith(process + ":"):
            command = line.split(":", 1)[1].strip()
            break
    else:
        raise ValueError(f"{procfile}: no '{process}:' line")
    filled = _VAR.sub(lambda m: env.get(m[1] or m[3]) or (m[2] or ""), command)
    return shlex.split(filled)


def on_loopback(argv: list[str], host: str = "127.0.0.1") -> list[str]:
    """The same command listening on ``host`` only (``--bind 0.0.0.0:PORT`` -> host:PORT)."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg in ("--bind", "-b") and i + 1 < len(out):
            out[i + 1] = host + ":" + out[i + 1].rsplit(":", 1)[-1]
        elif arg.startswith("--bind="):
            out[i] = "--bind=" + host + ":" + arg.rsplit(":", 1)[-1]
    return out


def with_app(argv: list[str], app: str) -> list[str]:
    """The same command serving another WSGI app (gunicorn's last argument, module:callable)."""
    if not argv or argv[-1].startswith("-") or ":" not in argv[-1]:
        raise ValueError(f"expected the app as the command's last argument: {argv}")
    return argv[:-1] + [app]


def summarize_collapsed(text: str, top: int = 25) -> list[tuple[str, float, float]]:
    """py-spy's ``--format raw`` (collapsed stacks: ``frame;frame;... count``) as
    ``(function, inclusive %, self %)``, the most expensive first."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        for name in set(frames):
            inclusive[name] = inclusive.get(name, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n
    if not total:
        return []
    ranked = sorted(inclusive, key=lambda k: (-inclusive[k], k))[:top]
    return [(k, 100 * inclusive[k] / total, 100 * own.get(k, 0) / total) for k in ranked]
