"""A tiny REST package, shaped like a generated one, whose tools call the auth tests' upstream."""
