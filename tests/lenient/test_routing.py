"""An API router rules itself out for a path none of its routes can end with, and matches
every other path as FastAPI would: the same route, the same 404 and 405."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from boxoffice.server.app import install_error_handlers
from boxoffice.server.lenient import api_router


def _app() -> tuple[FastAPI, list[str]]:
    served: list[str] = []
    first, second = api_router(), api_router()

    @first.get("/cart/{cart_id}")
    def cart(cart_id: str) -> dict[str, str]:
        served.append(f"cart {cart_id}")
        return {}

    @second.post("/cart/{cart_id}/checkout")
    def checkout(cart_id: str) -> dict[str, str]:
        served.append(f"checkout {cart_id}")
        return {}

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(first, prefix="/v1/{client_name}/peppered")
    app.include_router(second, prefix="/v1/{client_name}/peppered")
    # Added after the routers were included (and after a request has been routed below).
    app.state.add_later = lambda: second.add_api_route("/event/{event_id}", event)

    def event(event_id: int) -> dict[str, str]:
        served.append(f"event {event_id}")
        return {}

    return app, served


def test_each_path_reaches_its_route_and_no_other_path_does() -> None:
    app, served = _app()
    with TestClient(app) as http:
        assert http.get("/v1/a/peppered/cart/x").status_code == 200
        assert http.post("/v1/a/peppered/cart/x/checkout").status_code == 200
        assert http.get("/v1/a/peppered/cart/x/checkout").status_code == 405
        assert http.post("/v1/a/peppered/cart/x").status_code == 405
        assert http.get("/v1/a/peppered/cart").status_code == 404
        assert http.get("/v1/a/peppered/event/1").status_code == 404
        app.state.add_later()
        assert http.get("/v1/a/peppered/event/1").status_code == 200
    assert served == ["cart x", "checkout x", "event 1"]
