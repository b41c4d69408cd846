"""Layer 4: puts providers and mechanisms together and owns their state. Imports the layers below."""
