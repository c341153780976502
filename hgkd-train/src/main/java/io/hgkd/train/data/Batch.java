package io.hgkd.train.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One batch from a {@link Loader}.
 *
 * @param images  float {@code [n, C, H, W]} array, normalised
 * @param labels  class index per sample, -1 for unlabeled data
 * @param indices dataset index per sample (to find the files)
 * @param epoch   the epoch it belongs to
 * @param number  its position in the epoch, from 0
 */
public record Batch(INDArray images, int[] labels, int[] indices, int epoch, int number) {

    /** Number of samples. */
    public int size() {
        return labels.length;
    }

    /** The labels as an int32 vector of length {@link #size()}. */
    public INDArray labelArray() {
        return Nd4j.createFromArray(labels.clone());
    }
}
