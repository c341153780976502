package io.hgkd.train.preview;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A pretraining job that can show its predictions for fixed images (see {@link PreviewListener}). Both methods run on
 * the training thread between steps and must leave training unchanged: no parameter, running statistic, queue or
 * random stream of the run may move (models run in evaluation mode and go back to training mode after).
 */
public interface Previewable {

    /**
     * {@code n} fixed images (the same on every call, as far as the data allow), (n', C, H, W) with n' &lt;= n when
     * the data have fewer readable images.
     */
    INDArray previewImages(int n);

    /** The masks, reconstructions and features for {@code images}, with a fixed masking (the same every epoch). */
    Preview preview(INDArray images);
}
