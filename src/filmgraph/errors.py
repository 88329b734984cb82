"""One small exception hierarchy; the API maps it to HTTP in one place (filmgraph.api.problems)."""

from __future__ import annotations


class FilmgraphError(Exception):
    """Base of every error filmgraph raises on purpose."""

    status_code = 500
    title = "Internal error"


class BadRequest(FilmgraphError):
    status_code = 400
    title = "Bad request"


class QuerySyntaxError(BadRequest):
    """The SPARQL text did not parse; the message is the parser's."""

    title = "Malformed SPARQL"


class UnsupportedFormat(BadRequest):
    title = "Unsupported format"


class QueryTooDeep(BadRequest):
    """Brackets nested past `max_query_depth`: refused before a parser (which recurses per level) sees the text."""

    title = "Query nested too deeply"


class UnsafeXml(BadRequest):
    """XML that declares entities or a DTD subset: refused, since an expanding parser can be made to blow up."""

    title = "XML entities refused"


class NotFound(FilmgraphError):
    status_code = 404
    title = "Not found"


class Unauthorized(FilmgraphError):
    status_code = 401
    title = "Unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="filmgraph", Basic realm="filmgraph"'}


class Forbidden(FilmgraphError):
    status_code = 403
    title = "Forbidden"


class NotAcceptable(FilmgraphError):
    status_code = 406
    title = "Not acceptable"


class PayloadTooLarge(FilmgraphError):
    status_code = 413
    title = "Payload too large"


class UploadTooLarge(PayloadTooLarge):
    """One literal or one upload's triples past a configured cap; nothing was written."""

    title = "Upload too large"


class UnsupportedMediaType(FilmgraphError):
    status_code = 415
    title = "Unsupported media type"


class InvalidParameter(FilmgraphError):
    status_code = 422
    title = "Invalid parameter"


class ResultTooLarge(FilmgraphError):
    """The result outgrew `max_result_bytes`; evaluation was stopped. Page with LIMIT/OFFSET."""

    status_code = 422
    title = "Result too large"


class MethodNotAllowed(FilmgraphError):
    """A method the resource does not answer; `allow` names those it does (the Allow header a 405 must carry)."""

    status_code = 405
    title = "Method not allowed"

    def __init__(self, message: str, allow: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.headers = {"Allow": ", ".join(allow)} if allow else {}


class QueryTimeout(FilmgraphError):
    status_code = 503
    title = "Query timed out"
    headers = {"Retry-After": "10"}


class Overloaded(FilmgraphError):
    status_code = 503
    title = "Service overloaded"
    headers = {"Retry-After": "1"}


class BackendUnavailable(FilmgraphError):
    status_code = 502
    title = "Backend unavailable"


class StoreInUse(FilmgraphError, OSError):
    """The embedded store's directory is open in another process: RocksDB lets one process at a time hold it. An
    OSError still, as the engine's own error was, so callers that handled that keep working."""

    status_code = 503
    title = "Store in use"


def is_held_elsewhere(error: OSError) -> bool:
    """Whether a store directory failed to open because another process holds it (RocksDB's directory lock, or
    the `StoreInUse` made of it): the one "is the store locked?" test of the CLI, the build and the store."""
    return isinstance(error, StoreInUse) or "lock" in str(error).lower()


class BuildError(FilmgraphError):
    """The build refused its input; the message names the file and line or the offending node."""

    title = "Build failed"


class ValidationFailed(BuildError):
    title = "SHACL validation failed"


class InconsistentOntology(BuildError):
    title = "Ontology and data are inconsistent"


class StorageError(FilmgraphError):
    """The disk under the store failed a write (an I/O error of the engine, not the client's fault).

    `written` tells the client the truth about its request: False = nothing was written (retry once storage
    recovers), True = the change is committed and durable but readers may not see it yet (do not repeat it),
    None = it may have been partly written (a bulk load is not one transaction)."""

    status_code = 503
    title = "Storage error"
    headers = {"Retry-After": "30"}

    def __init__(self, detail: str, *, written: bool | None = False) -> None:
        super().__init__(detail)
        self.written = written

    @property
    def extensions(self) -> dict[str, object]:
        return {"written": self.written}


class StorageFull(StorageError):
    """The file system holding the store has no room left (ENOSPC, or less free space than `min_free_bytes`)."""

    status_code = 507
    title = "Insufficient storage"


class IngestError(BuildError):
    """A source was refused by `filmgraph ingest` / POST /api/sources; the message names the claim or node, and
    nothing was changed. A client's input error, so 422 (the build's own errors stay 500: its inputs are ours)."""

    status_code = 422
    title = "Source refused"


class ReasonerFailed(BuildError):
    """The OWL reasoner could not run (no Java, a crash): the machine's fault, not the input's, so it stays 500."""

    title = "Reasoner failed"


class ResolutionError(BuildError):
    """A curation file refers to an id nobody declared, or declares anew an entity the store already has."""

    status_code = 422
    title = "Entity resolution failed"


class OwnedGraphWrite(FilmgraphError):
    """A user write aimed at a graph the build and ingest own (filmgraph.ownership)."""

    status_code = 409
    title = "Graph owned by the build"


class WorkersUnavailable(FilmgraphError):
    """No query worker is running (they are being restarted): a query is refused at once rather than queued."""

    status_code = 503
    title = "Query workers restarting"
    headers = {"Retry-After": "2"}


class ShuttingDown(WorkersUnavailable):
    """The server received SIGTERM: queued and new queries are refused at once, not cancelled as a 500."""

    title = "Server shutting down"


class NotExecutable(FilmgraphError):
    """A well-formed query or update that cannot be carried out on this store (the engine's message says why):
    not a syntax error, so not a 400."""

    status_code = 409
    title = "SPARQL operation not executable"


class GraphNotFound(NotExecutable):
    """An update names a graph that does not exist, without SILENT (DROP, CLEAR, MOVE of a missing graph)."""

    status_code = 404
    title = "Graph not found"


class GraphExists(NotExecutable):
    """CREATE GRAPH of a graph that exists, without SILENT."""

    title = "Graph already exists"
