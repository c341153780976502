package io.hgkd.models.student;

import io.hgkd.core.nn.Module;
import io.hgkd.models.resnet.ResNet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SparK's {@code SparseEncoder}: holds the sparse CNN under the name {@code sp_cnn}, so the student's keys read
 * {@code sparse_encoder.sp_cnn.*}. Its Module forward is the wrapped ResNet's; the student uses
 * {@link ResNet#features} directly.
 */
final class SparseEncoder extends Module {
    private final ResNet spCnn;

    SparseEncoder(ResNet spCnn) {
        this.spCnn = registerModule("sp_cnn", spCnn);
    }

    ResNet cnn() {
        return spCnn;
    }

    @Override
    public INDArray forward(INDArray x) {
        return spCnn.forward(x);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        return spCnn.backward(gradOutput);
    }
}
