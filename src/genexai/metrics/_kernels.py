"""Compiled (numba) kernels of the fast path: the prediction-gap curves, and the
predicted classes of the accuracy and per-class curves (:func:`kept_argmax_kernel`).

Why not torch: per example and order, a gap curve is ``n_genes / gap``
steps, each adding ``gap`` weight rows to the first layer's output and
taking one softmax probability. As tensor operations that is a sparse
product, a cumulative sum, the head and the softmax, each a pass over an
``(n, n_steps, n_classes)`` block that does not fit in cache; memory, not
arithmetic, bounds it. Fused into one loop per example the running first
layer output stays in cache: one order over 3,600 SIMU1-sized examples takes
0.47 s (LR) and 0.66 s (MLP) instead of about 1.0 s (docs/benchmarks.md,
paper profile). An order shared by every example (34 of EVALUATE's 36)
runs :data:`LANES` examples side by side instead, so that the loops are
long vectors over examples (:func:`_shared_order_curves`); the kept-genes
curves use the same layout.

``exp`` is written out (a degree-5 polynomial for ``2^f`` on ``[0, 1)`` and
the exponent set through the float's bits, relative error below 3e-7, the
float32 rounding): ``math.exp`` is a scalar libm call that LLVM cannot
vectorise, and it alone doubled the kernel's time.
"""

from __future__ import annotations

import numba
import numpy as np

_LOG2E = np.float32(1.4426950408889634)
#: Clamp of the exponents, as in :func:`genexai.metrics._common.target_prob`.
_LIMIT = np.float32(80.0)


@numba.njit(fastmath=True, cache=True, inline="always")
def _exp2_parts(v):
    """``2^v = p · 2^k`` for ``v`` in ``[-116, 116]``: ``(p, k + 127)``, the
    polynomial part and the float32 exponent bits of ``2^k`` (unshifted)."""
    k = np.floor(v)
    f = v - k
    p = np.float32(1.8775767e-3)
    p = p * f + np.float32(8.9893397e-3)
    p = p * f + np.float32(5.5826318e-2)
    p = p * f + np.float32(2.4015361e-1)
    p = p * f + np.float32(6.9315308e-1)
    p = p * f + np.float32(9.9999994e-1)
    return p, np.int32(k) + np.int32(127)


@numba.njit(fastmath=True, cache=True, inline="always")
def _target_prob(logits, target, frac, bits):
    """``1 / Σ_c exp(logits_c − logits_target)``; ``frac``/``bits`` are scratch."""
    pivot = logits[target]
    for c in range(logits.shape[0]):
        frac[c], biased = _exp2_parts(min(max(logits[c] - pivot, -_LIMIT), _LIMIT) * _LOG2E)
        bits[c] = biased << 23  # 2^k as float32 bits
    scale = bits.view(np.float32)
    total = np.float32(0.0)
    for c in range(logits.shape[0]):
        total += frac[c] * scale[c]
    return np.float32(1.0) / total


@numba.njit(fastmath=True, cache=True, inline="always")
def _add_rows(acc, coef, rows, index, in_order, start, stop):  # noqa: PLR0917 (numba kernel)
    """``acc += Σ_{start ≤ k < stop} coef[k] · rows[r_k]``, ``r_k = k`` if
    ``in_order`` else ``index[k]``.

    Four rows per pass over ``acc``: each pass is a load-add-store chain
    through memory, so fewer, fatter passes run about 1.5× faster.
    """
    k = start
    while k + 4 <= stop:
        if in_order:
            r0, r1, r2, r3 = k, k + 1, k + 2, k + 3
        else:
            r0, r1, r2, r3 = index[k], index[k + 1], index[k + 2], index[k + 3]
        c0, c1, c2, c3 = coef[k], coef[k + 1], coef[k + 2], coef[k + 3]
        for h in range(acc.shape[0]):
            acc[h] += (c0 * rows[r0, h] + c1 * rows[r1, h]) + (c2 * rows[r2, h] + c3 * rows[r3, h])
        k += 4
    while k < stop:
        r0 = k if in_order else index[k]
        c0 = coef[k]
        for h in range(acc.shape[0]):
            acc[h] += c0 * rows[r0, h]
        k += 1


@numba.njit(fastmath=True, cache=True)
def gap_curves_kernel(  # noqa: PLR0917 (numba kernel: arrays passed positionally)
    x,
    baseline,
    z0,
    weight_t,
    order,
    target,
    gap,
    mlp,
    scale,
    shift,
    head_weight_t,
    head_bias,
    out,
):
    """Fill ``out[e, j] = max(F_t(x_e) − F_t(x_e^(j+1)), 0)``; a shared order
    goes to :func:`_shared_order_curves`.

    Parameters
    ----------
    x
        ``(n, G)`` float32 examples.
    baseline
        ``(G,)`` float32.
    z0
        ``(n, H)`` float32, the first layer's output on ``x``.
    weight_t
        ``(G, H)`` float32, the first layer's weight, transposed; for a
        shared order (``order.shape[0] == 1``) its rows already *in* that
        order (``weight_t[order[0]]``).
    order
        ``(1, G)`` (shared) or ``(n, G)`` int64, genes in replacement order.
    target
        ``(n,)`` int64, the followed class.
    gap
        Genes replaced per step.
    mlp
        False: the logits are the first layer's output (LR families). True:
        ``relu(z · scale + shift) @ head_weight_t + head_bias`` (the MLP
        head, BatchNorm folded into ``scale``/``shift``).
    scale, shift
        ``(H,)`` float32 (ignored unless ``mlp``).
    head_weight_t
        ``(H, C)`` float32, the last layer's weight transposed; ``head_bias``
        ``(C,)`` float32 (ignored unless ``mlp``).
    out
        ``(n, G // gap)`` float32, written.
    """
    if order.shape[0] == 1:
        head = (scale, shift, head_weight_t, head_bias)
        return _shared_order_curves(
            x, baseline, z0, weight_t, order[0], target, gap, mlp, head, out
        )
    n, n_genes = x.shape
    n_hidden = z0.shape[1]
    n_classes = head_weight_t.shape[1] if mlp else n_hidden
    n_steps = n_genes // gap
    z = np.empty(n_hidden, np.float32)
    act = np.empty(n_hidden, np.float32)
    logits = np.empty(n_classes, np.float32)
    frac = np.empty(n_classes, np.float32)
    bits = np.empty(n_classes, np.int32)
    delta = np.empty(n_genes, np.float32)
    for e in range(n):
        genes = order[e]
        for k in range(n_steps * gap):  # b − x in replacement order, read in sequence below
            g = genes[k]
            delta[k] = baseline[g] - x[e, g]
        for h in range(n_hidden):
            z[h] = z0[e, h]
        t = target[e]
        p0 = np.float32(0.0)
        for j in range(-1, n_steps):  # j = -1: the unreplaced example
            if j >= 0:
                _add_rows(
                    z, delta, weight_t, genes, in_order=False, start=j * gap, stop=(j + 1) * gap
                )
            if mlp:
                for h in range(n_hidden):
                    act[h] = max(z[h] * scale[h] + shift[h], np.float32(0.0))
                for c in range(n_classes):
                    logits[c] = head_bias[c]
                _add_rows(logits, act, head_weight_t, genes, in_order=True, start=0, stop=n_hidden)
            else:
                for c in range(n_classes):
                    logits[c] = z[c]
            p = _target_prob(logits, t, frac, bits)
            if j < 0:
                p0 = p
            else:
                out[e, j] = max(p0 - p, np.float32(0.0))
    return out


#: Examples per block of a shared order's curves (:func:`_shared_order_curves`).
#: Its inner loops run over the block's examples; LLVM vectorises them (with
#: run-time alias checks) only when they are long: at 16, in a trial, it unrolled
#: them into scalar code, slower than the per-example kernel.
LANES = 64


@numba.njit(fastmath=True, cache=True, inline="always")
def _add_rows_lanes(acc, coef, rows, start, stop):
    """``acc[h, :] += Σ_{start ≤ k < stop} rows[k, h] · coef[k, :]``, four
    ``k`` per pass as in :func:`_add_rows`; ``acc`` ``(H, LANES)``, ``coef``
    ``(K, LANES)``, ``rows`` ``(K, H)``."""
    k = start
    while k + 4 <= stop:
        for h in range(acc.shape[0]):
            w0, w1, w2, w3 = rows[k, h], rows[k + 1, h], rows[k + 2, h], rows[k + 3, h]
            for e in range(LANES):
                acc[h, e] += (coef[k, e] * w0 + coef[k + 1, e] * w1) + (
                    coef[k + 2, e] * w2 + coef[k + 3, e] * w3
                )
        k += 4
    while k < stop:
        for h in range(acc.shape[0]):
            w0 = rows[k, h]
            for e in range(LANES):
                acc[h, e] += coef[k, e] * w0
        k += 1


@numba.njit(fastmath=True, cache=True, inline="always")
def _head_lanes(z, mlp, head, act, logits):
    """The logits of :data:`LANES` first-layer outputs ``z`` ``(H, LANES)``:
    ``z`` itself unless ``mlp``, else the MLP head (``head`` as in
    :func:`_shared_order_curves`) written into ``logits`` ``(C, LANES)``;
    ``act`` ``(H, LANES)`` is scratch."""
    if not mlp:
        return z
    scale, shift, head_weight_t, head_bias = head
    for h in range(z.shape[0]):
        for e in range(LANES):
            act[h, e] = max(z[h, e] * scale[h] + shift[h], np.float32(0.0))
    for c in range(logits.shape[0]):
        for e in range(LANES):
            logits[c, e] = head_bias[c]
    _add_rows_lanes(logits, act, head_weight_t, 0, z.shape[0])
    return logits


@numba.njit(fastmath=True, cache=True)
def _shared_order_curves(x, baseline, z0, weight_t, order, target, gap, mlp, head, out):  # noqa: PLR0917
    """The curves of one order shared by every example,
    :data:`LANES` examples at a time.

    Why: with a shared order every example adds the same weight rows, so a
    block of examples side by side turns each step into vector
    multiply-adds over the block (first layer, head and softmax alike), where
    the per-example kernel's loops run over only ``H`` (20 or 33) values.
    Each example's arithmetic is the per-example kernel's, in the same
    order; fastmath may contract it differently, so values agree to float32
    round-off (docs/results.md).

    Parameters are those of :func:`gap_curves_kernel`, except ``order``,
    ``(G,)`` int64 (``weight_t``'s rows are in that order), and ``head``,
    the tuple ``(scale, shift, head_weight_t, head_bias)``.
    """
    n, n_genes = x.shape
    n_hidden = z0.shape[1]
    n_classes = head[2].shape[1] if mlp else n_hidden
    n_steps = n_genes // gap
    delta = np.empty((n_steps * gap, LANES), np.float32)
    z = np.empty((n_hidden, LANES), np.float32)
    act = np.empty((n_hidden, LANES), np.float32)
    logits = np.empty((n_classes, LANES), np.float32)
    pivot = np.empty(LANES, np.float32)
    total = np.empty(LANES, np.float32)
    frac = np.empty(LANES, np.float32)
    bits = np.empty(LANES, np.int32)
    power = bits.view(np.float32)
    p0 = np.empty(LANES, np.float32)
    lane_target = np.empty(LANES, np.int64)
    for start in range(0, n, LANES):
        m = min(LANES, n - start)
        # Lanes past the last example hold zeros: finite, and never written out.
        delta[:] = 0.0
        z[:] = 0.0
        lane_target[:] = 0
        for k in range(n_steps * gap):
            g = order[k]
            for e in range(m):
                delta[k, e] = baseline[g] - x[start + e, g]
        for e in range(m):
            for h in range(n_hidden):
                z[h, e] = z0[start + e, h]
            lane_target[e] = target[start + e]
        for j in range(-1, n_steps):  # j = -1: the unreplaced examples
            if j >= 0:
                _add_rows_lanes(z, delta, weight_t, j * gap, (j + 1) * gap)
            lg = _head_lanes(z, mlp, head, act, logits)
            for e in range(LANES):
                pivot[e] = lg[lane_target[e], e]
                total[e] = 0.0
            for c in range(n_classes):
                for e in range(LANES):
                    v = min(max(lg[c, e] - pivot[e], -_LIMIT), _LIMIT) * _LOG2E
                    frac[e], biased = _exp2_parts(v)
                    bits[e] = biased << 23
                for e in range(LANES):
                    total[e] += frac[e] * power[e]
            if j < 0:
                for e in range(LANES):
                    p0[e] = np.float32(1.0) / total[e]
            else:
                for e in range(m):
                    out[start + e, j] = max(p0[e] - np.float32(1.0) / total[e], np.float32(0.0))
    return out


@numba.njit(fastmath=True, cache=True)
def kept_argmax_kernel(x, baseline, z_start, weight_t, order, sizes, keep, mlp, head, out):  # noqa: PLR0917
    """Predicted classes as more and more genes of one shared order are kept
    (or replaced), :data:`LANES` examples at a time.

    Point ``i`` moves the first layer's output from ``z_start`` by
    ``Σ_{k < sizes[i]} d_k · weight_t[k]``, ``d_k = x − b`` (``keep``) or
    ``b − x`` at gene ``order[k]``, adding each point's genes to the running
    sum of the previous one, then takes the head's argmax (the first
    largest logit, as :func:`torch.argmax`).

    Why not torch: as tensors that is a sparse product over every gene, a
    cumulative sum and the head, each a pass over an ``(n, n_points, H)``
    block; here the running sum of a block of examples stays in cache and
    each gene's weight row is read once per block.

    Parameters
    ----------
    x
        ``(n, G)`` float32 examples; ``baseline`` ``(G,)`` float32.
    z_start
        ``(n, H)`` float32: the first layer's output on the baseline
        (``keep``) or on ``x``.
    weight_t
        ``(sizes[-1], H)`` float32, the first layer's weight transposed, its
        rows those of ``order``'s genes, in order.
    order
        ``(≥ sizes[-1],)`` int64, genes in order; ``sizes`` ``(P,)`` int64,
        increasing.
    keep, mlp, head
        Whether the first genes are the kept ones; the head as in
        :func:`_shared_order_curves`.
    out
        ``(P, n)`` int64, written.
    """
    n = x.shape[0]
    n_hidden = z_start.shape[1]
    n_classes = head[2].shape[1] if mlp else n_hidden
    n_kept = sizes[-1] if len(sizes) else 0
    delta = np.empty((n_kept, LANES), np.float32)
    z0 = np.zeros((n_hidden, LANES), np.float32)
    seg = np.empty((n_hidden, LANES), np.float32)
    cum = np.empty((n_hidden, LANES), np.float64)
    z = np.empty((n_hidden, LANES), np.float32)
    act = np.empty((n_hidden, LANES), np.float32)
    logits = np.empty((n_classes, LANES), np.float32)
    best = np.empty(LANES, np.float32)
    arg = np.empty(LANES, np.int64)
    sign = np.float32(1.0) if keep else np.float32(-1.0)
    for start in range(0, n, LANES):
        m = min(LANES, n - start)
        delta[:] = 0.0  # lanes past the last example: zeros, never written out
        for k in range(n_kept):
            g = order[k]
            for e in range(m):
                delta[k, e] = sign * (x[start + e, g] - baseline[g])
        for e in range(m):
            for h in range(n_hidden):
                z0[h, e] = z_start[start + e, h]
        cum[:] = 0.0
        done = 0
        for i in range(len(sizes)):
            # torch's order of sums (segment_sums, then cumsum, then + z_start),
            # one gene at a time: the argmax of nearly tied logits (all but a
            # few genes replaced) follows round-off, so the summation is kept.
            seg[:] = 0.0
            for k in range(done, sizes[i]):
                for h in range(n_hidden):
                    w = weight_t[k, h]
                    for e in range(LANES):
                        seg[h, e] += delta[k, e] * w
            done = sizes[i]
            for h in range(n_hidden):
                for e in range(LANES):
                    cum[h, e] += seg[h, e]
                    z[h, e] = np.float32(cum[h, e]) + z0[h, e]
            lg = _head_lanes(z, mlp, head, act, logits)
            for e in range(LANES):
                best[e] = lg[0, e]
                arg[e] = 0
            for c in range(1, n_classes):
                for e in range(LANES):
                    if lg[c, e] > best[e]:
                        best[e] = lg[c, e]
                        arg[e] = c
            for e in range(m):
                out[i, start + e] = arg[e]
    return out


def head_arrays(mlp_head: tuple | None) -> tuple[bool, tuple]:
    """``(mlp, head)`` of the kernels from :attr:`genexai.models.FirstLayer.mlp_head`:
    ``head = (scale, shift, head_weight_t, head_bias)``, contiguous float32
    (empty arrays for the LR families, whose logits are the first layer's)."""
    if mlp_head is None:
        none = np.zeros(0, np.float32)
        return False, (none, none, np.zeros((0, 0), np.float32), none)
    scale, shift, head_weight, head_bias = mlp_head
    return True, (scale, shift, np.ascontiguousarray(head_weight.T), head_bias)
