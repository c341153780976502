package io.hgkd.models.student;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What {@link SparkStudent#forward(INDArray, io.hgkd.core.sparse.ActiveMask)} returns. Both arrays are module-owned
 * buffers that the next forward overwrites: {@code dup()} what you keep.
 *
 * @param pixels   SparK's reconstruction (B, inChans, H, W), or null without a pixel head
 * @param features the teacher-grid prediction (B, D_t, H / P_t, W / P_t), or null without a feature head
 */
public record StudentOutput(INDArray pixels, INDArray features) {
}
