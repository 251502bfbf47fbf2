"""Models f(x; theta): the protocol and the built-in models."""
