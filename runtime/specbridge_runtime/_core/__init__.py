"""Layer 1: descriptors, errors, seams (the extension points), the stores of the limits' state, naming, the
clock. Imports nothing of the runtime's."""
