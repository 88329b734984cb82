"""`filmgraph draft`: a draft curation file for a new text, for the curator to check, correct and ingest."""

from .document import Draft, draft_curation
from .render import render_draft

__all__ = ["Draft", "draft_curation", "render_draft"]
