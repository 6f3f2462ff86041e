"""HTML and table renderings of analysis frames (plain Python: the pages embed the output)."""
