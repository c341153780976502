package io.hgkd.core.sparse;

import io.hgkd.core.nn.Conv2d;

/**
 * SparK's sparse convolution: the dense convolution (bias included), then the output multiplied by the active mask at
 * the output resolution. Inactive inputs are already 0, so this emulates a submanifold sparse convolution at dense
 * cost. It shares the parameters (and names) of the wrapped {@link Conv2d}.
 */
public class SparseConv2d extends OutputMasked<Conv2d> {
    /** The sparse twin of {@code dense}, sharing its weight and bias. */
    public SparseConv2d(Conv2d dense) {
        super(dense);
        shareStateWith(dense);
    }
}
