"""Layer 1: descriptors, errors, seams (the extension points), naming, the clock. Imports nothing of the runtime's."""
