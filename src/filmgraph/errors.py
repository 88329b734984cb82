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


class WorkersUnavailable(FilmgraphError):
    """No query worker is running (they are being restarted): a query is refused at once rather than queued."""

    status_code = 503
    title = "Query workers restarting"
    headers = {"Retry-After": "2"}
