"""The HTTP plumbing shared by the local stand-ins of social networks.

A stand-in answers a network's documented wire format over real HTTP on
127.0.0.1, so client code runs unchanged in tests and offline demos. This
base does the serving, routing, request log and scripted faults; a network's
stand-in only declares its routes and data. Standard library only, so a
stand-in can also run as a plain script (``make demo``)::

    class TootStandin(StandinServer):
        server_name = "TootStandin/1.0"
        bearer_token = "secret"  # checked by the default authorize()

        @route("GET", "/api/v1/statuses/{status_id}")
        def status(self, request):
            found = self.statuses.get(request.params["status_id"])
            if found is None:
                raise StandinError(404, {"error": "Record not found"})
            return 200, found, {"Link": '<...?max_id=1>; rel="next"'}

    with TootStandin() as toot:
        toot.fail_next("/api/v1/statuses/", 503, after=1)  # 2nd call fails
        client = TootClient(toot.base_url, {"access_token": "secret"})

Handlers run under the stand-in's lock and return ``(status, body,
headers)`` (or ``(status, body)``): a dict or list body goes out as JSON, a
``str`` as HTML, ``bytes`` as is, ``None`` as an empty body. Headers (e.g.
Mastodon's ``Link``) are sent as given. Order of an answer: scripted fault,
then ``authorize``, then the route (404 when none), then ``malform_next``
(on a copy of the body).

A stand-in that must also run as a script or be loaded by file path (no
package) imports this module the way ``x_standin.py`` does.
"""

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
_PARAM = re.compile(r"\{(\w+)\}")


def route(method, pattern):
    """Declare the decorated method as the handler of ``method`` + ``pattern``.

    ``pattern`` is a path whose ``{name}`` segments match one path segment
    each and reach the handler as ``request.params[name]``. Routes without
    parameters win over patterned ones, otherwise declaration order wins.
    """

    def mark(func):
        func.standin_routes = (*getattr(func, "standin_routes", ()), (method, pattern))
        return func

    return mark


def _compile(pattern):
    """Return the regex of a route pattern (``{name}`` = one path segment)."""
    parts = _PARAM.split(pattern)
    regex = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
        for index, part in enumerate(parts)
    )
    return re.compile(regex + r"\Z")


class StandinError(Exception):
    """Raised by a handler to answer with an API error document."""

    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class StandinRequest:
    """One request as received; ``requests`` logs these.

    ``query`` keeps the last value of a repeated parameter; ``raw_query``
    and ``raw`` keep the exact bytes (e.g. to check a signature).
    """

    method: str
    path: str
    query: dict
    headers: dict
    raw: bytes = b""
    raw_query: str = ""
    params: dict = field(default_factory=dict)
    handler: str = None

    @property
    def body(self):
        """The request body as text."""
        return self.raw.decode("utf-8", "replace")

    @property
    def json(self):
        """The parsed JSON body, or None when empty or not JSON."""
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            return None

    @property
    def form(self):
        """The ``application/x-www-form-urlencoded`` body as a dict."""
        return dict(parse_qsl(self.body, keep_blank_values=True))

    def header(self, name, default=""):
        """Return a header value, whatever its case."""
        wanted = name.lower()
        found = (v for k, v in self.headers.items() if k.lower() == wanted)
        return next(found, default)


@dataclass
class _Rule:
    """A scripted answer for the next ``times`` requests under ``prefix``."""

    prefix: str
    times: int
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: object = None
    mutate: object = None
    after: int = 0


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the owning stand-in."""

    def do_GET(self):
        """Answer a GET request."""
        self.server.standin.handle_http(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def version_string(self):
        """Name the stand-in in the ``Server`` header."""
        return self.server.standin.server_name

    def log_message(self, format, *args):
        """Stay quiet: tests assert on the stand-in's ``requests`` instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Ignore clients that hung up (e.g. after a client-side timeout)."""


class StandinServer:
    """A threaded local HTTP server with a route table and scripted faults.

    Subclasses declare handlers with ``@route``, may set ``bearer_token``
    (checked by the default ``authorize``) and may override
    ``authorize``, ``error_body``, ``not_found_body`` and ``common_headers``.
    """

    server_name = "Standin/1.0"
    bearer_token = None

    def __init__(self):
        self._routes = self._collect_routes()
        self.requests = []
        self._lock = threading.RLock()
        self._rules = []
        self._delay = 0.0
        self._stopping = threading.Event()
        self._server = None
        self._thread = None

    @classmethod
    def _collect_routes(cls):
        """Return the ``@route`` handlers of the class and its bases."""
        found = []
        for klass in reversed(cls.__mro__):
            for name, member in vars(klass).items():
                for method, pattern in getattr(member, "standin_routes", ()):
                    found.append((method.upper(), _compile(pattern), name, pattern))
        return tuple(sorted(found, key=lambda r: "{" in r[3]))

    # -- lifecycle ---------------------------------------------------------

    def start(self, port=0, host="127.0.0.1"):
        """Serve in a daemon thread; ``port=0`` picks a free port."""
        self._server = _Server((host, port), _Handler)
        self._server.standin = self
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        """Stop serving and release the port (delayed answers are dropped)."""
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self):
        """The URL to give clients as API base, e.g. http://127.0.0.1:PORT."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- hooks -------------------------------------------------------------

    def authorize(self, request):
        """Return None to let ``request`` through, or the body of a 401.

        By default, when ``bearer_token`` is set, only
        ``Authorization: Bearer <bearer_token>`` gets through.
        """
        if not self.bearer_token:
            return None
        if request.header("Authorization") == f"Bearer {self.bearer_token}":
            return None
        return self.error_body(401)

    def error_body(self, status):
        """The body of a scripted fault given without one."""
        return {"error": HTTPStatus(status).phrase}

    def not_found_body(self, request):
        """The body of the 404 for a request no route matches."""
        return self.error_body(404)

    def common_headers(self, request):
        """Headers added to every answer a route gave (e.g. rate limits)."""
        return {}

    # -- scripted faults ---------------------------------------------------

    def fail_next(
        self, path_prefix, status, times=1, headers=None, body=None, after=0, raw=None
    ):
        """Answer the next ``times`` requests under ``path_prefix`` with an error.

        ``after`` lets that many matching requests through first (e.g. fail
        the second page). ``body``: a dict (JSON), a str (HTML) or None
        (``error_body(status)``); ``raw`` bytes are sent as they are, for
        garbled answers. This comes before authorization, like a proxy.
        """
        rule = _Rule(
            path_prefix,
            times,
            status,
            dict(headers or {}),
            raw if raw is not None else body,
            after=after,
        )
        with self._lock:
            self._rules.append(rule)

    def malform_next(self, path_prefix, mutate, times=1):
        """Let ``mutate(body)`` alter the next route answers in place.

        E.g. ``lambda body: body["data"][0].pop("created_at")``.
        """
        with self._lock:
            self._rules.append(_Rule(path_prefix, times, mutate=mutate))

    def set_delay(self, seconds):
        """Wait ``seconds`` before answering any request (to cause timeouts)."""
        self._delay = float(seconds)

    def clear_log(self):
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()

    # -- HTTP plumbing -----------------------------------------------------

    def handle_http(self, handler):
        """Answer one request (called from the handler thread)."""
        request = self._read(handler)
        with self._lock:
            self.requests.append(request)
        if self._delay and self._stopping.wait(self._delay):
            return
        status, body, headers = self._answer(request)
        self._send(handler, status, body, headers)

    def _read(self, handler):
        """Return the ``StandinRequest`` of what ``handler`` received."""
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        name, params = self._match(handler.command, parts.path)
        return StandinRequest(
            method=handler.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=dict(handler.headers.items()),
            raw=handler.rfile.read(length) if length else b"",
            raw_query=parts.query,
            params=params,
            handler=name,
        )

    def _match(self, method, path):
        """Return the handler name and path parameters, or ``(None, {})``."""
        for verb, regex, name, _pattern in self._routes:
            found = regex.match(path) if verb == method else None
            if found:
                return name, found.groupdict()
        return None, {}

    def _answer(self, request):
        """Return ``(status, body, headers)`` for a logged request."""
        rule = self._take_rule(request.path, failing=True)
        if rule:
            body = rule.body if rule.body is not None else self.error_body(rule.status)
            return rule.status, body, rule.headers
        denied = self.authorize(request)
        if denied is not None:
            return 401, denied, {}
        try:
            with self._lock:
                status, body, headers = self._dispatch(request)
                rule = self._take_rule(request.path, failing=False)
                if rule:
                    body = copy.deepcopy(body)  # never the stored state
                    rule.mutate(body)
        except StandinError as exc:
            return exc.status, exc.body, exc.headers
        return status, body, {**self.common_headers(request), **headers}

    def _dispatch(self, request):
        """Call the route's handler; return ``(status, body, headers)``."""
        if request.handler is None:
            raise StandinError(404, self.not_found_body(request))
        status, body, *headers = getattr(self, request.handler)(request)
        return status, body, dict(headers[0] if headers else {})

    def _take_rule(self, path, failing):
        """Use up one turn of the first matching scripted rule, if any."""
        with self._lock:
            for rule in self._rules:
                if path.startswith(rule.prefix) and (rule.mutate is None) == failing:
                    if rule.after > 0:
                        rule.after -= 1
                        return None
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    @staticmethod
    def _encode(body):
        """Return the bytes and default Content-Type of an answer body."""
        if body is None:
            return b"", None
        if isinstance(body, bytes):
            return body, HTML_TYPE
        if isinstance(body, str):
            return body.encode("utf-8"), HTML_TYPE
        return json.dumps(body, ensure_ascii=False).encode("utf-8"), JSON_TYPE

    def _send(self, handler, status, body, headers):
        """Write the answer; a Content-Type in ``headers`` wins."""
        data, ctype = self._encode(body)
        if ctype and not any(k.lower() == "content-type" for k in headers):
            headers = {"Content-Type": ctype, **headers}
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            return  # the client gave up (timeout)
