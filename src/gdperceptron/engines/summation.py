"""Sums over samples whose rounding does not depend on trailing zero rows.

XLA adds the terms of a sum in an order that depends on its length (vector lanes, the
tail, blocking), so a run on data padded with left-out zero rows differs from the run on
the rows kept by rounding, which a large step amplifies. :func:`pairwise_sum` adds in an
order fixed by the terms alone: the terms are zero-padded to a power-of-two count ``2^K``
and halves are added, ``x[:h] + x[h:]``, until one is left. Zero terms appended at the
end leave the result unchanged, bit for bit: at a level whose second half is all zeros,
``x + 0 = x`` (for ``x != -0``), and from the level of ``2^K`` terms on both sums are the
same additions. The run loop's padding-invariant mode (``gdperceptron.run``,
``padding_invariant=True``) sums over blocks of :func:`sample_block` samples this way.
"""

from __future__ import annotations

from gdperceptron._jax import jax, jnp

# most rows per block of the padding-invariant mode, and most entries (rows x d) per block
SAMPLE_BLOCK = 64
BLOCK_ENTRIES = 2**15


def sample_block(d: int) -> int:
    """Rows per block for ``d`` features: the largest power of two ``B <= 64`` with
    ``B d <= 2^15`` (at least 1). It depends on ``d`` only, so that a run and the same
    run on padded data use the same blocks; padding to a multiple of it adds fewer than
    ``2^15`` entries."""
    rows = max(1, min(SAMPLE_BLOCK, BLOCK_ENTRIES // max(int(d), 1)))
    return 1 << (rows.bit_length() - 1)


def pairwise_sum(x: jax.Array) -> jax.Array:
    """``sum_i x[i]`` over the first axis, shape ``x.shape[1:]``, added pairwise over
    ``2^K >= len(x)`` terms (zero-padded): the same bits for ``x`` and for ``x`` followed by
    any number of zero rows."""
    n = x.shape[0]
    size = 1 << max(n - 1, 0).bit_length()
    if size > n:
        x = jnp.concatenate([x, jnp.zeros((size - n, *x.shape[1:]), x.dtype)])
    while x.shape[0] > 1:
        half = x.shape[0] // 2
        x = x[:half] + x[half:]
    return x[0]
