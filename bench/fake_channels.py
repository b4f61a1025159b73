"""Loopback stand-ins for Telegram's Bot API and Twilio's Messages API that
enforce the limits a broadcast must keep, for ``bench/broadcast.py``.

Telegram: at most ``telegram_rate`` messages in any second overall, one a
second to one chat; more is answered 429 with ``retry_after``, as Telegram
does. Twilio: at most ``twilio_rate`` in any second; more is answered 429
(Twilio's 20429). Every accepted message is recorded with its time, so the
benchmark counts the rate reached, the duplicates and the losses.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class Window:
    """At most ``limit`` events in any ``seconds``."""

    def __init__(self, limit: float, seconds: float = 1.0):
        self.limit, self.seconds, self.times = limit, seconds, deque()

    def admit(self, now: float) -> bool:
        while self.times and now - self.times[0] >= self.seconds:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A bot stopped (or killed) with requests in flight hangs up: not news."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeChannels:
    def __init__(self, telegram_rate: float, twilio_rate: float):
        self.telegram_rate, self.twilio_rate = telegram_rate, twilio_rate
        self.lock = threading.Lock()
        self.telegram, self.twilio = Window(telegram_rate), Window(twilio_rate)
        self.per_chat: dict[str, float] = {}
        self.accepted: list[tuple[float, str, str, str]] = []  # (time, channel, to, text)
        self.refused = Counter()  # channel -> 429s
        # Kept as messages arrive, so the benchmark can watch progress without
        # copying the whole record (which, at 100,000 messages, holds the
        # interpreter long enough to bunch the requests it is measuring).
        self.addresses: set[str] = set()
        self.texts: set[str] = set()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeChannels:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    @property
    def count(self) -> int:
        return len(self.accepted)

    def _accept(self, now: float, channel: str, to: str, text: str) -> int:
        self.accepted.append((now, channel, to, text))
        self.addresses.add(f"telegram:{to}" if channel == "telegram" else to)
        self.texts.add(text)
        return len(self.accepted)

    def received(self, channel: str | None = None) -> list[tuple[float, str, str, str]]:
        with self.lock:
            return [a for a in self.accepted if channel is None or a[1] == channel]

    def _telegram(self, method: str, params: dict) -> tuple[int, dict]:
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "bench", "username": "bench_bot"}}
        if method in ("deleteWebhook", "setWebhook", "setMyCommands"):
            return 200, {"ok": True, "result": True}
        if method == "getUpdates":
            time.sleep(1.0)
            return 200, {"ok": True, "result": []}
        if method != "sendMessage":
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {method} is not faked"}
        chat, now = str(params.get("chat_id")), time.monotonic()
        with self.lock:
            if now - self.per_chat.get(chat, -10.0) < 1.0 or not self.telegram.admit(now):
                self.refused["telegram"] += 1
                return 429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                             "parameters": {"retry_after": 1}}
            self.per_chat[chat] = now
            number = self._accept(now, "telegram", chat, params.get("text", ""))
        return 200, {"ok": True, "result": {"message_id": number, "date": int(time.time()), "text": params.get("text", ""),
                                             "chat": {"id": int(chat), "type": "private" if not chat.startswith("-") else "channel"}}}

    def _twilio(self, params: dict) -> tuple[int, dict]:
        now = time.monotonic()
        with self.lock:
            if not self.twilio.admit(now):
                self.refused["whatsapp"] += 1
                return 429, {"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429",
                             "status": 429}
            text = params.get("Body") or params.get("ContentVariables", "")
            self._accept(now, "whatsapp", params.get("To", ""), text)
        sid = "SM" + uuid.uuid4().hex
        return 201, {"sid": sid, "status": "queued", "to": params.get("To"), "from": params.get("From"), "body": params.get("Body"),
                     "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01", "price": None,
                     "error_code": None, "error_message": None, "uri": f"/2010-04-01/Accounts/AC/Messages/{sid}.json",
                     "date_created": None, "date_updated": None, "date_sent": None, "account_sid": "AC" + "0" * 32,
                     "messaging_service_sid": None, "num_media": "0", "price_unit": "USD", "subresource_uris": {}}

    def _handler(self):
        channels = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                kind = self.headers.get("Content-Type", "")
                params = json.loads(raw) if "json" in kind and raw else {k: v[0] for k, v in parse_qs(raw).items()}
                if self.path.startswith("/bot"):
                    status, body = channels._telegram(self.path.rsplit("/", 1)[1], params)
                elif self.path.endswith("/Messages.json"):
                    status, body = channels._twilio(params)
                else:
                    status, body = 404, {"error": "not found"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        return Handler
