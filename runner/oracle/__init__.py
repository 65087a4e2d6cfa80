"""The oracle backend (`--backend oracle`): gold answers through the real pipeline, optionally degraded
and repaired, so every phase runs end to end without a capable model (see backend.py)."""
