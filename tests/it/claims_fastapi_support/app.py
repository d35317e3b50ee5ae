"""A small FastAPI service nobody here wrote the framework of: its own error handler turns
HTTPException into an ErrorResponse body (error_code, message, request_id echoed from
x-request-id, timestamp, retry_after), an idempotency middleware replays the stored answer of a
repeated Idempotency-Key, and FastAPI's default handler answers validation errors (422) with its
own {"detail": [...]} shape. Things carry a `rev`: a PUT naming another rev than the stored one
gets 409 VERSION_CONFLICT; `GET /things?limit=` serves at most 100 (a larger limit is capped).
Listens on 127.0.0.1, a free port, printed as "port N"."""

import asyncio
import datetime
import socket
import sys

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

app = FastAPI()
stored = {}
orders = {"n": 0}
things = {i: {"id": i, "name": f"thing-{i}", "rev": 1} for i in range(1, 151)}
keyed = asyncio.Lock()  # a replay sent while the first is in flight waits for its answer


@app.exception_handler(HTTPException)
async def error_response(request: Request, exc: HTTPException):
    retry = exc.headers.get("Retry-After") if exc.headers else None
    body = {
        "error_code": {404: "NOT_FOUND", 409: "VERSION_CONFLICT", 503: "UPSTREAM_DOWN"}.get(exc.status_code, "ERROR"),
        "message": str(exc.detail),
        "request_id": request.headers.get("x-request-id", ""),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "retry_after": int(retry) if retry else None,
    }
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


@app.middleware("http")
async def idempotency(request: Request, call_next):
    key = request.headers.get("idempotency-key")
    if request.method != "POST" or not key:
        return await call_next(request)
    async with keyed:
        if key in stored:
            status, body, ctype = stored[key]
            return Response(body, status_code=status, media_type=ctype)
        resp = await call_next(request)
        body = b"".join([chunk async for chunk in resp.body_iterator])
        stored[key] = (resp.status_code, body, resp.headers.get("content-type"))
    return Response(body, status_code=resp.status_code, media_type=resp.headers.get("content-type"))


@app.get("/items/{item_id}")
async def get_item(item_id: int):
    if item_id > 100:
        raise HTTPException(status_code=404, detail=f"item {item_id} not found")
    return {"id": item_id, "name": f"item-{item_id}"}


@app.get("/busy")
async def busy():
    raise HTTPException(status_code=503, detail="upstream down", headers={"Retry-After": "2"})


@app.post("/orders")
async def create_order():
    orders["n"] += 1
    return JSONResponse({"order": orders["n"]}, status_code=201)


class ThingUpdate(BaseModel):
    name: str
    rev: int


@app.get("/things")
async def list_things(limit: int = 20):
    limit = max(1, min(limit, 100))
    return {"things": list(things.values())[:limit], "limit": limit}


@app.get("/things/{thing_id}")
async def get_thing(thing_id: int):
    if thing_id not in things:
        raise HTTPException(status_code=404, detail=f"thing {thing_id} not found")
    return things[thing_id]


@app.put("/things/{thing_id}")
async def update_thing(thing_id: int, update: ThingUpdate):
    thing = things.get(thing_id)
    if thing is None:
        raise HTTPException(status_code=404, detail=f"thing {thing_id} not found")
    if update.rev != thing["rev"]:
        raise HTTPException(status_code=409, detail=f"thing {thing_id} is at rev {thing['rev']}")
    thing.update(name=update.name, rev=thing["rev"] + 1)
    return thing


if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print("port", sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    sys.exit(0)
