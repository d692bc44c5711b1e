"""Dependencies that only read the request are read by the route's endpoint, not solved by
FastAPI: the route gets the same values, its own Request too, and FastAPI solves none."""

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from boxoffice.server.lenient import api_router
from boxoffice.server.threadpool import reads_request


@reads_request
async def _answer(request: Request) -> int:
    return int(request.app.state.answer)


async def _solved(request: Request) -> str:
    return "solved"


Answer = Annotated[int, Depends(_answer)]
Solved = Annotated[str, Depends(_solved)]


def test_a_request_reading_dependency_is_read_by_the_endpoint() -> None:
    router = api_router()

    @router.get("/plain/{n}")
    def plain(n: int, answer: Answer, solved: Solved) -> dict[str, object]:
        return {"n": n, "answer": answer, "solved": solved}

    @router.get("/async")
    async def with_request(request: Request, answer: Answer) -> dict[str, object]:
        return {"path": request.url.path, "answer": answer}

    app = FastAPI()
    app.state.answer = 42
    app.include_router(router)
    with TestClient(app) as http:
        assert http.get("/plain/7").json() == {"n": 7, "answer": 42, "solved": "solved"}
        assert http.get("/async").json() == {"path": "/async", "answer": 42}
    solved = {
        context.path: [sub.call for sub in context.dependant.dependencies]
        for context in iter_route_contexts(app.routes)
        if context.path in ("/plain/{n}", "/async")
    }
    assert solved == {"/plain/{n}": [_solved], "/async": []}
