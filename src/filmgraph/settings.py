"""Settings in one typed object: command-line flags and FILMGRAPH_* environment variables, read once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .sparql_text import ENGINE_MAX_DEPTH

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FILMGRAPH_", extra="ignore")

    # where things are
    store: Path = Field(default=PROJECT_ROOT / "var" / "store", description="Embedded store directory")
    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="Sources and claims")
    ontology_dir: Path = Field(default=PROJECT_ROOT / "ontology", description="Ontology and SHACL shapes")
    queries_dir: Path = Field(default=PROJECT_ROOT / "queries", description="Named research questions")

    # serving
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = Field(default=None, description="Public base URL, if not http://host:port")
    token: str | None = Field(default=None, description="Bearer token for writes; none = read-only")
    cors_origins: list[str] = Field(default_factory=list)
    union_default_graph: bool = Field(
        default=True,
        description="/sparql's query default graph: the union of all graphs (true) or the store's own (false)",
    )
    allow_service: bool = Field(default=False, description="Follow SERVICE clauses (outgoing HTTP); off = 403")
    service_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Endpoints SERVICE may call when allowed (comma-separated IRIs; * = any); others get 403",
    )
    telemetry: bool = Field(default=False, description="FastAPI's OpenTelemetry spans/metrics (providers set up by you)")
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost"],
        description="Host names a request may use for the links it gets when base_url is unset (the bind host too)",
    )

    # connections (see api/connections.py)
    timeout_keep_alive: float = Field(default=5.0, gt=0, description="Seconds an idle connection stays open")
    header_timeout: float = Field(default=10.0, gt=0, description="Seconds for a request line and headers; then 408")
    body_timeout: float = Field(default=30.0, gt=0, description="Seconds for a body, plus 1 s per min_body_rate bytes")
    min_body_rate: int = Field(default=16 * 1024, gt=0, description="Bytes/s a long body must keep up")
    max_connections: int = Field(default=256, ge=1, description="Open connections; a request beyond gets 503")
    shutdown_timeout: float = Field(default=5.0, ge=0, description="Seconds requests in flight get on SIGTERM")

    # limits
    query_timeout: float = Field(default=30.0, gt=0, description="Seconds before a query is stopped")
    max_query_length: int = Field(default=100_000, gt=0, description="Characters; longer gets 413")
    workers: int = Field(default=2, ge=1, description="Query worker processes")
    max_pending_queries: int = Field(default=64, ge=1, description="Queued queries before 503")
    max_result_bytes: int = Field(default=256 * 2**20, gt=0, description="Serialised result size before 422")
    max_upload_bytes: int = Field(default=512 * 2**20, gt=0, description="Graph Store / update body; larger gets 413")
    min_free_bytes: int = Field(
        default=64 * 2**20, ge=0, description="Free bytes the store's disk keeps: a write when fewer are left gets 507"
    )
    max_literal_bytes: int = Field(default=2**20, gt=0, description="UTF-8 bytes of one uploaded literal; more = 413")
    max_upload_triples: int = Field(
        default=5_000_000, gt=0, description="Triples of one upload, INSERT DATA or `filmgraph load`; more = 413"
    )
    max_query_depth: int = Field(
        default=100, ge=1, le=ENGINE_MAX_DEPTH, description="Nesting of {, ( and [ in a query or update; deeper = 400"
    )
    worker_store: str = Field(
        default="auto",
        pattern="^(auto|disk|memory)$",
        description="Queries read the graph on disk (disk), also from copies in memory, one per worker and one for "
        "the inline lane (memory: faster queries, seconds to build, RAM per copy), or the latter for graphs of up to "
        "2M quads (auto)",
    )
    durability: str = Field(
        default="sync",
        pattern="^(sync|process)$",
        description="What an acknowledged write survives: sync = also a power loss (the write-ahead log is synced "
        "before the answer, ~0.3 ms); process = a crash or kill -9 of the server, not a power loss or kernel crash, "
        "which can take the last sync_interval seconds of writes (as Oxigraph server)",
    )
    sync_interval: float = Field(
        default=1.0, gt=0, description="Seconds between syncs of the write-ahead log in durability=process"
    )
    result_cache_size: int = Field(default=256, ge=0, description="Cached serialised results; 0 = no cache")
    inline_queries: bool = Field(
        default=True, description="Answer queries of shapes the workers found cheap in the server process itself"
    )
    inline_copy: bool = Field(
        default=True,
        description="In memory and auto modes, keep an in-memory copy in the server process for the inline lane and "
        "exports; false: they read the disk (one copy fewer; with workers=1 the service holds one copy in all)",
    )

    # backend: embedded (default) or a remote SPARQL 1.1 endpoint
    backend: str = Field(default="embedded", pattern="^(embedded|remote)$")
    remote_query_url: str | None = None
    remote_update_url: str | None = None
    remote_graph_store_url: str | None = None
    remote_user: str | None = None
    remote_password: str | None = None
    remote_auth: str = Field(default="basic", pattern="^(basic|digest)$", description="How the user and password are sent")
    remote_token: str | None = Field(default=None, description="Bearer token for the remote engine (another filmgraph)")
    remote_union_default_graph: bool | None = Field(
        default=None,
        description="Whether the remote engine's default graph is the union of its named graphs (unset: detected); "
        "when false, filmgraph's queries name the graphs they read",
    )


    @field_validator("service_allow", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """`FILMGRAPH_SERVICE_ALLOW=https://a/sparql,https://b/sparql`, as the README shows it."""
        return [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
