"""A fault server of our own (`server.py`) and how tests start it (`process.py`)."""
