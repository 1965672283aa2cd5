"""Data shipped with laicai (real market history; see each dataset's PROVENANCE.md)."""
