"""The serving engine `filmgraph serve` wraps around the embedded store: worker processes, checkpoints, the inline
lane, in-memory copies and the result cache (README.md beside this file). Only the server builds it."""
