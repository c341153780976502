package io.hgkd.train.data;

import java.util.Objects;

/**
 * One training example: a float image in {@code CHW} order, already normalised, and its class.
 *
 * @param data     {@code channels * height * width} values
 * @param channels channel count
 * @param height   rows
 * @param width    columns
 * @param label    class index, or -1 for unlabeled data
 */
public record Sample(float[] data, int channels, int height, int width, int label) {

    /** Validates the shape against the data length. */
    public Sample {
        Objects.requireNonNull(data, "data");
        if (channels < 1 || height < 1 || width < 1 || (long) channels * height * width != data.length) {
            throw new IllegalArgumentException("sample data has " + data.length + " values, shape is " + channels
                    + "x" + height + "x" + width);
        }
        if (label < -1) {
            throw new IllegalArgumentException("label must be >= -1, got " + label);
        }
    }

    /** "CxHxW". */
    public String shape() {
        return channels + "x" + height + "x" + width;
    }
}
