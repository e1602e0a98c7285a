"""The shared stand-in server base, driven over real HTTP with ``requests``."""

import socket
import time

import requests

from odoo.tests import BaseCase, tagged

from .standin_base import StandinError, StandinServer, route

TOKEN = {"Authorization": "Bearer good"}


class ShopStandin(StandinServer):
    """A tiny API: items by id, a Link-paged list and creation by JSON."""

    server_name = "ShopStandin/1.0"

    def __init__(self):
        super().__init__()
        self.items = {"1": {"id": "1", "name": "kite"}}

    def authorize(self, request):
        if request.header("authorization") != "Bearer good":
            return {"error": "The access token is invalid"}
        return None

    def common_headers(self, request):
        return {"X-RateLimit-Remaining": "299"}

    @route("GET", "/items/{item_id}")
    def item(self, request):
        item = self.items.get(request.params["item_id"])
        if item is None:
            raise StandinError(404, {"error": "Record not found"}, {"X-Why": "gone"})
        return 200, item

    @route("GET", "/items/new")
    def blank_item(self, request):
        return 200, {"id": None, "name": ""}, {}

    @route("GET", "/items")
    def item_page(self, request):
        link = f'<{self.base_url}/items?max_id=1>; rel="next"'
        return 200, list(self.items.values()), {"Link": link}

    @route("POST", "/items")
    def create_item(self, request):
        data = request.json
        if not isinstance(data, dict) or not data.get("name"):
            raise StandinError(422, {"error": "Validation failed"})
        item = {"id": str(len(self.items) + 1), "name": data["name"]}
        self.items[item["id"]] = item
        return 201, item, {}


class PlainStandin(StandinServer):
    """No ``authorize`` override: the base checks ``bearer_token``."""

    bearer_token = "good"

    @route("GET", "/ping")
    def ping(self, request):
        return 200, {"pong": True}


@tagged("post_install", "-at_install", "webcare_standin")
class TestStandinBase(BaseCase):
    def setUp(self):
        super().setUp()
        self.shop = ShopStandin().start()
        self.addCleanup(self.shop.stop)

    def get(self, path, headers=None):
        headers = TOKEN if headers is None else headers
        return requests.get(self.shop.base_url + path, headers=headers, timeout=5)

    def post(self, path, **kwargs):
        url = self.shop.base_url + path
        return requests.post(url, headers=TOKEN, timeout=5, **kwargs)

    # -- routing -------------------------------------------------------------

    def test_route_params_json_and_headers(self):
        answer = self.get("/items/1")
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.json(), {"id": "1", "name": "kite"})
        self.assertEqual(
            answer.headers["Content-Type"], "application/json; charset=utf-8"
        )
        self.assertEqual(int(answer.headers["Content-Length"]), len(answer.content))
        self.assertEqual(answer.headers["X-RateLimit-Remaining"], "299")
        self.assertEqual(answer.headers["Server"], "ShopStandin/1.0")

    def test_literal_route_wins_over_a_pattern(self):
        self.assertEqual(self.get("/items/new").json(), {"id": None, "name": ""})
        self.assertEqual(self.shop.requests[-1].handler, "blank_item")
        self.assertEqual(self.shop.requests[-1].params, {})

    def test_link_header_passes_through(self):
        answer = self.get("/items")
        self.assertEqual(answer.json(), [{"id": "1", "name": "kite"}])
        self.assertEqual(
            answer.links["next"]["url"], self.shop.base_url + "/items?max_id=1"
        )

    def test_post_reads_the_json_body(self):
        answer = self.post("/items", json={"name": "yo-yo"})
        self.assertEqual((answer.status_code, answer.json()["id"]), (201, "2"))
        self.assertEqual(self.get("/items/2").json()["name"], "yo-yo")

    def test_unknown_route_or_method_is_a_json_404(self):
        for method, path in (("GET", "/nothing"), ("DELETE", "/items/1")):
            answer = requests.request(
                method, self.shop.base_url + path, headers=TOKEN, timeout=5
            )
            self.assertEqual(answer.status_code, 404)
            self.assertEqual(answer.json(), {"error": "Not Found"})
            self.assertNotIn("X-RateLimit-Remaining", answer.headers)

    def test_handler_error_has_its_status_body_and_headers(self):
        answer = self.get("/items/9")
        self.assertEqual(answer.status_code, 404)
        self.assertEqual(answer.json(), {"error": "Record not found"})
        self.assertEqual(answer.headers["X-Why"], "gone")
        self.assertNotIn("X-RateLimit-Remaining", answer.headers)
        self.assertEqual(self.post("/items", data=b"not json").status_code, 422)

    def test_authorize_hook_refuses_with_401(self):
        answer = self.get("/items/1", headers={"Authorization": "Bearer stale"})
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(answer.json(), {"error": "The access token is invalid"})
        self.assertEqual(self.shop.requests[-1].path, "/items/1")

    def test_default_authorize_checks_the_bearer_token(self):
        with PlainStandin() as plain:
            url = plain.base_url + "/ping"
            for token, status in (("good", 200), ("bad", 401), ("", 401)):
                headers = {"Authorization": f"Bearer {token}"}
                answer = requests.get(url, headers=headers, timeout=5)
                self.assertEqual(answer.status_code, status)
            self.assertEqual(answer.json(), {"error": "Unauthorized"})

    # -- request log ---------------------------------------------------------

    def test_request_log_keeps_what_was_sent(self):
        self.post("/items?draft=1&draft=0", json={"name": "ball"})
        request = self.shop.requests[-1]
        self.assertEqual((request.method, request.path), ("POST", "/items"))
        self.assertEqual(request.query, {"draft": "0"})
        self.assertEqual(request.raw_query, "draft=1&draft=0")
        self.assertEqual(request.headers["Authorization"], "Bearer good")
        self.assertEqual(request.header("AUTHORIZATION"), "Bearer good")
        self.assertEqual(request.json, {"name": "ball"})
        self.assertEqual(request.body, '{"name": "ball"}')
        self.get("/items/1")
        self.assertEqual(self.shop.requests[-1].params, {"item_id": "1"})
        self.shop.clear_log()
        self.assertEqual(self.shop.requests, [])

    # -- scripted faults -----------------------------------------------------

    def test_fail_next_after_and_times(self):
        self.shop.fail_next("/items/", 503, times=2, after=1)
        statuses = [self.get("/items/1").status_code for _i in range(4)]
        self.assertEqual(statuses, [200, 503, 503, 200])
        self.assertEqual(self.get("/items").status_code, 200)  # other prefix

    def test_fail_next_comes_before_auth_with_given_body_and_headers(self):
        self.shop.fail_next("/items", 429, headers={"Retry-After": "30"})
        answer = self.get("/items/1", headers={})
        self.assertEqual(answer.status_code, 429)
        self.assertEqual(answer.json(), {"error": "Too Many Requests"})
        self.assertEqual(answer.headers["Retry-After"], "30")
        self.shop.fail_next("/items", 400, body={"error": "bad max_id"})
        self.assertEqual(self.get("/items").json(), {"error": "bad max_id"})

    def test_fail_next_can_send_garbage(self):
        self.shop.fail_next("/items", 200, raw=b'{"id": "1", "na')
        answer = self.get("/items/1")
        self.assertEqual(answer.content, b'{"id": "1", "na')
        self.assertTrue(answer.headers["Content-Type"].startswith("text/html"))
        with self.assertRaises(ValueError):
            answer.json()
        self.shop.fail_next("/items", 502, body="<html>Bad gateway</html>")
        self.assertEqual(self.get("/items").text, "<html>Bad gateway</html>")

    def test_malform_next_changes_route_answers(self):
        self.shop.malform_next("/items/", lambda body: body.pop("name"), times=2)
        self.assertEqual(self.get("/items").json(), [{"id": "1", "name": "kite"}])
        self.assertEqual(self.get("/items/1").json(), {"id": "1"})
        self.assertEqual(self.get("/items/1").json(), {"id": "1"})
        self.assertEqual(self.get("/items/1").json(), {"id": "1", "name": "kite"})
        self.assertEqual(self.shop.items["1"]["name"], "kite")

    def test_delay_holds_the_answer(self):
        self.shop.set_delay(0.4)
        self.addCleanup(self.shop.set_delay, 0)
        started = time.monotonic()
        self.assertEqual(self.get("/items/1").status_code, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.4)

    def test_stop_releases_the_port(self):
        with ShopStandin() as other:
            port = other._server.server_address[1]
            self.assertEqual(
                requests.get(
                    other.base_url + "/items/1", headers=TOKEN, timeout=5
                ).status_code,
                200,
            )
        with socket.socket() as sock, self.assertRaises(OSError):
            sock.connect(("127.0.0.1", port))
