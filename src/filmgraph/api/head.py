"""HEAD wherever GET is answered: linked-data clients and link checkers ask HEAD before they fetch.

FastAPI routes declared with GET do not answer HEAD, so this middleware runs a HEAD request as a GET (same status
and headers, Content-Length included) and drops the body. Routes that answer HEAD themselves are left alone.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp, own_head_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.own_head_paths = own_head_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or scope["path"] in self.own_head_paths:
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # swallow streamed chunks; the last message ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
