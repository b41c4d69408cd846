"""Layer 3: tool providers (REST package, wrapper, gateway). Imports `_mechanisms` and `_core`."""
