package io.hgkd.core.sparse;

import io.hgkd.core.nn.MaxPool2d;

/** SparK's sparse max pooling: the dense pooling, then the output multiplied by the active mask. */
public class SparseMaxPool2d extends OutputMasked<MaxPool2d> {
    public SparseMaxPool2d(MaxPool2d dense) {
        super(dense);
    }

    public SparseMaxPool2d(int kernel, int stride, int padding) {
        this(new MaxPool2d(kernel, stride, padding));
    }
}
