"""Data sets: the synthetic constructions and loaders of local files (data -> models -> engines)."""
