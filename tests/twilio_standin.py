"""A local stand-in for Twilio's REST API: records each request and answers the way the
real API does for the few calls the helpline makes."""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

POLL_SECONDS = 0.01


ERRORS = {  # as Twilio's API answers them
    429: {"code": 20429, "message": "Too Many Requests", "status": 429},
    500: {"code": 20500, "message": "Internal Server Error", "status": 500},
    503: {"code": 20503, "message": "Service Unavailable", "status": 503},
    400: {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400},
}


class TwilioStandIn:
    def __init__(self):
        self.requests: list[dict] = []
        self.fail = False
        self.answers: list[int] = []  # statuses for the next POSTs (503, 429 ...), then 201
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                stand_in.requests.append({"method": self.command, "path": self.path,
                                          "auth": self.headers.get("Authorization", ""),
                                          "form": {k: v[0] for k, v in parse_qs(body).items()}})

            def do_POST(self):
                self._record()
                status = stand_in.answers.pop(0) if stand_in.answers else (500 if stand_in.fail else 201)
                stand_in.requests[-1]["status"] = status
                if status != 201:
                    self._json(status, ERRORS[status])
                    return
                form = stand_in.requests[-1]["form"]
                self._json(201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued",
                                 "to": form.get("To"), "from": form.get("From"),
                                 "body": form.get("Body"), "account_sid": self.path.split("/")[3]})

            def do_DELETE(self):
                self._record()
                self.send_response(204)
                self.end_headers()

            def _json(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits for the serving loop to look at its flag, which it does every
        # poll_interval (0.5 s by default): a short one lets close() return at once.
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": POLL_SECONDS}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
