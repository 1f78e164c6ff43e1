"""Settings per environment: base (hardened defaults), local, test, production."""
