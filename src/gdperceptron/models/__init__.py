"""Models f(x; theta): the protocol (:mod:`~gdperceptron.models.protocol`) and the built-in
models (:mod:`~gdperceptron.models.builtin`), which are ordinary instances of it."""
