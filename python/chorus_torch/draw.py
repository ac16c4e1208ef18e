"""Chorus's random draws, reproduced: std::mt19937_64, the 53-bit uniform and pick_symbol of
trainer/models/softmax_head.cpp. Invariant: the same seed gives the same raw draws as chorus in
the same order, so a sample drawn here equals `chorus sample` with that seed (up to a draw that
lands within float rounding of a probability)."""

import math

_MASK = (1 << 64) - 1
_N, _M = 312, 156
_MATRIX_A = 0xB5026F5AA96619E9
_UPPER, _LOWER = 0xFFFFFFFF80000000, 0x7FFFFFFF


class Mt19937_64:
    """std::mt19937_64 (C++11 [rand.predef]): the 10000th draw from seed 5489 is
    9981545732273789042."""

    def __init__(self, seed=5489):
        mt = [seed & _MASK]
        for i in range(1, _N):
            prev = mt[-1]
            mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & _MASK)
        self._mt, self._i = mt, _N

    def _twist(self):
        mt = self._mt
        for i in range(_N):
            x = (mt[i] & _UPPER) | (mt[(i + 1) % _N] & _LOWER)
            xa = x >> 1
            if x & 1:
                xa ^= _MATRIX_A
            mt[i] = mt[(i + _M) % _N] ^ xa
        self._i = 0

    def __call__(self):
        if self._i >= _N:
            self._twist()
        y = self._mt[self._i]
        self._i += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & _MASK


def uniform_01(engine):
    """A double in [0, 1) from the top 53 bits of one draw (data/streams.h uniform_01)."""
    return (engine() >> 11) * 2.0 ** -53


METHODS = ("multinomial", "gumbel", "argmax")


def pick_symbol(logits, temperature, method, engine):
    """One symbol from raw logits (a list of floats; -inf never drawn). multinomial: softmax(logits
    / T) by inversion of one uniform; gumbel: argmax of logits / T + Gumbel noise, one draw per
    symbol; argmax: the most likely (the first of ties), no draw."""
    n = len(logits)
    if method == "argmax":
        best = 0
        for i in range(1, n):
            if logits[i] > logits[best]:
                best = i
        return best
    z = [v / temperature for v in logits]
    if method == "gumbel":
        best, best_value = 0, -math.inf
        for i in range(n):
            u = ((engine() >> 11) + 0.5) * 2.0 ** -53  # in (0, 1): never log(0)
            v = z[i] - math.log(-math.log(u))
            if v > best_value:
                best_value, best = v, i
        return best
    if method != "multinomial":
        raise ValueError("method must be one of %s; got %r" % (", ".join(METHODS), method))
    top = max(z)
    total = 0.0
    for i in range(n):
        z[i] = math.exp(z[i] - top)
        total += z[i]
    u = uniform_01(engine) * total
    for i in range(n):
        u -= z[i]
        if u < 0:
            return i
    return n - 1
