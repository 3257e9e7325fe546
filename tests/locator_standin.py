"""A local stand-in for FindTreatment.gov's locator (``/locator/exportsAsJson/v2``): rows in
the shape the real one answers, with its known traps, and the ways it fails.

The rows are recorded-shape listings at a fixed distance from wherever the search is (so
any real ZIP code finds them): one facility listed twice (as ``SA`` and ``MH``), an opioid
treatment program with ``"services": null``, a name with a curly apostrophe, nothing that
lists services in Spanish, and one residential program 38 miles away. A row is returned
when it offers any of the asked ``sCodes`` and lies within ``limitValue`` meters. Like the
real locator, ``sAddr`` given longitude first quietly finds nothing.

``mode``: ``ok``; ``slow`` (answers only when the test ends, so the client's timeout acts);
``text`` (HTTP 200, text/plain, as the real one does for a malformed query); ``error`` (500);
``throttled`` (429); ``garbled`` (cut-off JSON).
"""
from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

METERS_PER_MILE = 1609.34


def _services(medications: str | None = None, setting: str = "Outpatient",
              care: str = "Substance use treatment", spanish: bool = False):
    rows = [{"f1": "Type of Care", "f2": "TC", "f3": care},
            {"f1": "Service Setting", "f2": "SET", "f3": setting},
            {"f1": "Payment/Insurance/Funding Accepted", "f2": "PAY",
             "f3": "Medicaid; Medicare; Cash or self-payment"}]
    if medications:
        rows.append({"f1": "Opioid Medications", "f2": "OM", "f3": medications})
    rows.append({"f1": "Language Services", "f2": "SL",
                 "f3": "Spanish" if spanish else "Sign language services for the deaf"})
    return rows


def _row(name, miles, codes, services, city="New York", phone="212-555-0100",
         kind="SA", street="100 Main Street"):
    return {"name1": name, "name2": "", "street1": street, "street2": "", "city": city,
            "state": "NY", "zip": "10001", "phone": phone, "intake1": "", "hotline1": "",
            "website": "https://example.org", "latitude": "40.7500", "longitude": "-73.9900",
            "miles": miles, "typeFacility": kind, "services": services, "_codes": codes}


ROWS = [
    _row("Harbor Recovery Center", 0.8, ["OTP", "METH", "BU", "OP"],
         _services("Methadone; Buprenorphine"), phone="212-555-0101"),
    _row("Harbor Recovery Center", 0.8, ["OTP", "METH", "BU", "OP"],
         [{"f1": "Type of Care", "f2": "TC", "f3": "Mental health treatment"}],
         phone="212-555-0101", kind="MH"),
    _row("Eastside Opioid Treatment Program", 1.9, ["OTP", "METH", "BU"], None,
         city="Brooklyn", phone="718-555-0102", street="2 Water Street"),
    _row("Greenway Health Clinic", 3.4, ["BU", "NU", "OP"],
         _services("Buprenorphine; Naltrexone"), city="Hoboken", phone="201-555-0103"),
    _row("Riverside Family Health Center", 6.1, ["BU", "OP"], _services("Buprenorphine"),
         city="Jersey City", phone="201-555-0104"),
    _row("Northside Medication Assisted Treatment Program", 9.0, ["OTP", "METH", "NU", "OP"],
         _services("Methadone; Naltrexone"), city="Yonkers", phone="914-555-0105"),
    _row("St. Anne\u2019s Hospital Withdrawal Management Unit", 12.5, ["DT", "HI", "BU"],
         _services("Buprenorphine", setting="Hospital inpatient", care="Detoxification"),
         city="Newark", phone="973-555-0106"),
    _row("Hilltop Residential Recovery Program", 38.0, ["RES", "NU"],
         _services("Naltrexone", setting="Residential"), city="Poughkeepsie",
         phone="845-555-0107"),
]


def spanish_rows() -> list[dict]:
    """The usual rows, with the third nearest listing services in Spanish."""
    rows = copy.deepcopy(ROWS)
    rows[4]["services"] = _services("Buprenorphine", spanish=True)
    return rows


class LocatorStandIn:
    def __init__(self, rows: list[dict] | None = None):
        self.rows = copy.deepcopy(ROWS if rows is None else rows)
        self.mode = "ok"
        self.requests: list[dict] = []
        self.on_request = None   # called before each answer, while the client waits
        self.released = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                stand_in.requests.append({"path": parts.path, "query": query,
                                          "user_agent": self.headers.get("User-Agent", "")})
                mode = stand_in.mode
                if stand_in.on_request is not None:
                    stand_in.on_request()
                if mode == "slow":
                    stand_in.released.wait(30)
                if parts.path.startswith("/moved/"):   # a base URL that redirects
                    self.send_response(301)
                    self.send_header("Location", parts.path[len("/moved"):] + "?" + parts.query)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif parts.path != "/locator/exportsAsJson/v2":
                    self._send(404, "text/html", b"<h1>Not Found</h1>")
                elif mode == "text":
                    self._send(200, "text/plain", b"Error: the search could not be completed")
                elif mode == "error":
                    self._send(500, "text/html", b"<h1>500 Internal Server Error</h1>")
                elif mode == "throttled":
                    self._send(429, "text/plain", b"Too Many Requests")
                elif mode == "garbled":
                    self._send(200, "application/json", b'{"page": 1, "rows": [{"name1": "Har')
                else:
                    self._send(200, "application/json", json.dumps(stand_in.answer(query)).encode())

            def _send(self, status, kind, data):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Cache-Control", "max-age=600")
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:   # the client gave up waiting (slow mode)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, query: dict) -> dict:
        try:
            lat, lng = (float(x) for x in query.get("sAddr", "").split(","))
            meters = float(query.get("limitValue", "0"))
            size, page = int(query.get("pageSize", "10")), int(query.get("page", "1"))
        except ValueError:
            lat, lng, meters, size, page = 0.0, 0.0, 0.0, 10, 1
        codes = set(filter(None, query.get("sCodes", "").split(",")))
        found = []
        if 17 <= lat <= 72 and lng < 0:   # a US latitude first, or nothing
            found = [{k: v for k, v in row.items() if k != "_codes"} for row in self.rows
                     if row["miles"] * METERS_PER_MILE <= meters
                     and (not codes or codes & set(row["_codes"]))]
        rows = found[(page - 1) * size: page * size]
        for i, row in enumerate(rows, start=1):
            row["_irow"] = i
        return {"page": page, "totalPages": max(1, -(-len(found) // size)),
                "recordCount": len(found), "rows": rows}

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
