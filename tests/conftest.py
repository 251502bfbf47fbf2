"""The test process computes its own references in float64 (a process of its own, like the
command line): x64 is switched on here, once. Tests of the package's behaviour with x64 off
switch it off in their own scope."""

import jax

jax.config.update("jax_enable_x64", True)
