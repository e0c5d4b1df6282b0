"""Sales force automation (REQUIREMENTS §2.1): pipelines and their stages, opportunities and
the history of their stage moves."""
