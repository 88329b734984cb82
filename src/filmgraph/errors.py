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


class NotFound(FilmgraphError):
    status_code = 404
    title = "Not found"


class Unauthorized(FilmgraphError):
    status_code = 401
    title = "Unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="filmgraph"'}


class Forbidden(FilmgraphError):
    status_code = 403
    title = "Forbidden"


class NotAcceptable(FilmgraphError):
    status_code = 406
    title = "Not acceptable"


class PayloadTooLarge(FilmgraphError):
    status_code = 413
    title = "Payload too large"


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
    status_code = 405
    title = "Method not allowed"


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


class BuildError(FilmgraphError):
    """The build refused its input; the message names the file and line or the offending node."""

    title = "Build failed"


class ValidationFailed(BuildError):
    title = "SHACL validation failed"


class InconsistentOntology(BuildError):
    title = "Ontology and data are inconsistent"


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
