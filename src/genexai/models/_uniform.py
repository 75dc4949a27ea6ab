"""torch's CPU uniform stream (``torch.rand``, float32), drawn faster.

Why: training an LR-family model on the CPU spends about a third of its time
in ``torch.rand`` drawing the dropout masks (a SimuB task: 15 of 40 s),
because torch's CPU generator runs its Mersenne Twister one element at a
time. The stream itself is fixed, and every trained model depends on it: a
CPU generator seeded with ``s`` is MT19937 seeded (Matsumoto and Nishimura's
``init_genrand``) with ``s mod 2^32``, and each float32 draw is one 32-bit
output ``y`` as ``(y mod 2^24) / 2^24``. :class:`TorchUniform` draws that
same stream with the state refilled 624 words at a time and the tempering
in vector loops: the same numbers (tests/models/test_uniform.py checks them
against ``torch.rand``), in about half the time.
"""

from __future__ import annotations

import numba
import numpy as np
import torch

#: MT19937's state words and its twist offset.
_N, _M = 624, 397


@numba.njit(cache=True)
def _twist(mt):
    """Refill the state ``mt`` ``(624,)`` uint32 in place (MT19937's recurrence)."""
    upper, lower = np.uint32(0x80000000), np.uint32(0x7FFFFFFF)
    matrix, one, zero = np.uint32(0x9908B0DF), np.uint32(1), np.uint32(0)
    # Two loops, not one with an index modulo 624: the modulo halves the speed.
    for k in range(_N - _M):
        y = (mt[k] & upper) | (mt[k + 1] & lower)
        mt[k] = mt[k + _M] ^ (y >> one) ^ (matrix & (zero - (y & one)))
    for k in range(_N - _M, _N - 1):
        y = (mt[k] & upper) | (mt[k + 1] & lower)
        mt[k] = mt[k + _M - _N] ^ (y >> one) ^ (matrix & (zero - (y & one)))
    y = (mt[_N - 1] & upper) | (mt[0] & lower)
    mt[_N - 1] = mt[_M - 1] ^ (y >> one) ^ (matrix & (zero - (y & one)))


@numba.njit(cache=True)
def _fill(mt, pos, out):
    """Write the next ``len(out)`` draws into ``out`` (float32); the new position."""
    scale = np.float32(1.0 / (1 << 24))
    done = 0
    while done < out.shape[0]:
        if pos == _N:
            _twist(mt)
            pos = 0
        m = min(_N - pos, out.shape[0] - done)
        for k in range(m):  # MT19937's tempering, then the low 24 bits
            y = mt[pos + k]
            y ^= y >> np.uint32(11)
            y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
            y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
            y ^= y >> np.uint32(18)
            out[done + k] = np.float32(y & np.uint32(0xFFFFFF)) * scale
        pos += m
        done += m
    return pos


class TorchUniform:
    """The float32 draws of ``torch.rand`` on a CPU generator seeded with ``seed``.

    ``TorchUniform(s).rand(shape)`` equals ``torch.manual_seed(s);
    torch.rand(shape)``, and successive calls continue the stream as
    successive ``torch.rand`` calls do. It does not touch torch's generator.

    Parameters
    ----------
    seed
        Any non-negative int; as torch, only ``seed mod 2^32`` counts.
    """

    def __init__(self, seed: int) -> None:
        mt = np.empty(_N, np.uint32)
        mt[0] = seed & 0xFFFFFFFF
        for j in range(1, _N):  # init_genrand
            prev = int(mt[j - 1])
            mt[j] = (1812433253 * (prev ^ (prev >> 30)) + j) & 0xFFFFFFFF
        self._state = mt
        self._pos = _N

    def rand(self, shape: tuple[int, ...] | torch.Size) -> torch.Tensor:
        """The next ``prod(shape)`` draws, float32 in [0, 1), row-major in ``shape``."""
        out = np.empty(int(np.prod(shape)), np.float32)
        self._pos = _fill(self._state, self._pos, out)
        return torch.from_numpy(out).reshape(tuple(shape))
