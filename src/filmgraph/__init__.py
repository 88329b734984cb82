"""filmgraph: a knowledge graph of film diplomacy with sentence-level provenance."""

__version__ = "0.1.0"
