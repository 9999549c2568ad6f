"""Questions → typed queries (rules + text embeddings)."""
