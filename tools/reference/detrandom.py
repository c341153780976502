"""Deterministic pseudo-random tensors, bit-identical to io.hgkd.core.testing.DetRandom in Java.

Element i of the tensor named `name` is low + (high - low) * u, where u is the upper 53 bits of SplitMix64 at counter
i + 1 with seed crc32(name) + salt, as a float64 in [0, 1), rounded to float32. Large reference models use this for
their weights, so only inputs and outputs need to be committed as fixtures.
"""
import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def seed(name, salt=0):
    return (zlib.crc32(name.encode("utf-8")) + salt) & 0xFFFFFFFFFFFFFFFF


def uniform(name, shape, low, high, salt=0):
    n = int(np.prod(shape)) if len(shape) else 1
    with np.errstate(over="ignore"):
        z = np.uint64(seed(name, salt)) + (np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)
    return (low + (high - low) * u).astype(np.float32).reshape(shape)


if __name__ == "__main__":
    # Writes the fixture that DetRandomTest compares with: run from the repository root.
    np.savez("src-test-data/parity/detrandom.npz",
             a=uniform("layer1.0.conv1.weight", (4, 3, 3, 3), -0.5, 0.5),
             b=uniform("blocks.0.attn.qkv.bias", (13,), 0.5, 1.5, salt=7))
    print("wrote src-test-data/parity/detrandom.npz")
