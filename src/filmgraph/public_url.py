"""The public base URL of the service: the one place that decides how links in answers and releases begin.

FILMGRAPH_BASE_URL when it is set. Otherwise the host a request named, but only when it is one of the allowed
hosts (FILMGRAPH_ALLOWED_HOSTS and the bind host): a Host header is the client's text, and copying it into a
`next` link or a VoID description would let anyone make the service hand out links to their own site (issue 13).
Any other host, and no request at all (a release bundle), give http://host:port of the settings.
"""

from __future__ import annotations

import re

from .settings import Settings

_HOST = re.compile(r"^(?P<name>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?$")


def public_base_url(settings: Settings, host: str | None = None, scheme: str = "http") -> str:
    """The base URL (no trailing slash) for links; `host` is the request's Host header, if any."""
    if settings.base_url:
        return settings.base_url.rstrip("/")
    matched = _HOST.match(host or "")
    if matched and matched["name"].lower() in _allowed(settings):
        port = f":{matched['port']}" if matched["port"] else ""
        return f"{scheme}://{matched['name'].lower()}{port}"
    return f"http://{settings.host}:{settings.port}"


def _allowed(settings: Settings) -> set[str]:
    return {name.lower() for name in settings.allowed_hosts} | {settings.host.lower()}
