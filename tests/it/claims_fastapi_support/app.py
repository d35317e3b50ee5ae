"""A small FastAPI service nobody here wrote the framework of: its own error handler turns
HTTPException into an ErrorResponse body (error_code, message, request_id echoed from
x-request-id, timestamp, retry_after), an idempotency middleware replays the stored answer of a
repeated Idempotency-Key, and FastAPI's default handler answers validation errors (422) with its
own {"detail": [...]} shape. Listens on 127.0.0.1, a free port, printed as "port N"."""

import asyncio
import datetime
import socket
import sys

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

app = FastAPI()
stored = {}
orders = {"n": 0}
keyed = asyncio.Lock()  # a replay sent while the first is in flight waits for its answer


@app.exception_handler(HTTPException)
async def error_response(request: Request, exc: HTTPException):
    retry = exc.headers.get("Retry-After") if exc.headers else None
    body = {
        "error_code": {404: "NOT_FOUND", 503: "UPSTREAM_DOWN"}.get(exc.status_code, "ERROR"),
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


if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print("port", sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    sys.exit(0)
