"""Records: generation records (how each piece of content was made) and permission-checked reads."""
