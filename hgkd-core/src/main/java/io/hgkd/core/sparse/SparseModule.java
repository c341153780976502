package io.hgkd.core.sparse;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A module that runs on sparse (masked) feature maps, SparK-style: inactive positions of its output are exactly 0.
 * A null mask means dense operation, so the same modules and weights serve sparse pretraining and dense fine-tuning.
 */
public interface SparseModule {
    /** Forward pass with the active mask ({@code null} = dense). */
    INDArray forward(INDArray x, ActiveMask mask);
}
