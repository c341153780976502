package io.hgkd.train.data;

import java.util.Arrays;

/**
 * The conversion of an 8-bit image to a float {@code CHW} tensor: {@code (v / 255 - mean[c]) / std[c]} in float
 * arithmetic, which is torchvision's {@code ToTensor} followed by {@code Normalize}. A single mean/std applies to
 * every channel (so a gray statistic can normalise a replicated 3-channel image).
 *
 * @param mean per-channel means (1 or 3 values) on the [0, 1] scale
 * @param std  per-channel standard deviations, positive
 */
public record Normalize(float[] mean, float[] std) {

    /** ImageNet statistics, (0.485, 0.456, 0.406) and (0.229, 0.224, 0.225), used by SparK and MAE. */
    public static final Normalize IMAGENET = new Normalize(new float[] {0.485f, 0.456f, 0.406f},
            new float[] {0.229f, 0.224f, 0.225f});

    /** Only the scaling to [0, 1] ({@code ToTensor}). */
    public static final Normalize NONE = new Normalize(new float[] {0f}, new float[] {1f});

    /** Validates and copies the arrays. */
    public Normalize {
        if (mean == null || std == null || (mean.length != 1 && mean.length != 3) || mean.length != std.length) {
            throw new IllegalArgumentException("mean and std must both have 1 or 3 values, got "
                    + Arrays.toString(mean) + " and " + Arrays.toString(std));
        }
        for (float s : std) {
            if (!(s > 0) || Float.isInfinite(s)) {
                throw new IllegalArgumentException("std values must be positive and finite, got "
                        + Arrays.toString(std));
            }
        }
        for (float m : mean) {
            if (!Float.isFinite(m)) {
                throw new IllegalArgumentException("mean values must be finite, got " + Arrays.toString(mean));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** The same mean and std for every channel. */
    public static Normalize of(float mean, float std) {
        return new Normalize(new float[] {mean}, new float[] {std});
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** Writes the normalised {@code CHW} values of {@code image} into {@code out} from {@code offset}. */
    public void apply(ByteImage image, float[] out, int offset) {
        int c = image.channels();
        if (mean.length != 1 && mean.length != c) {
            throw new IllegalArgumentException("normalisation has " + mean.length + " channels, the image has " + c);
        }
        int plane = image.height() * image.width();
        byte[] px = image.pixels();
        for (int ch = 0; ch < c; ch++) {
            float m = mean[mean.length == 1 ? 0 : ch];
            float s = std[std.length == 1 ? 0 : ch];
            int o = offset + ch * plane;
            for (int i = 0, p = ch; i < plane; i++, p += c) {
                out[o + i] = ((px[p] & 0xFF) / 255f - m) / s;
            }
        }
    }

    /** The normalised {@code CHW} values of {@code image} in a new array. */
    public float[] apply(ByteImage image) {
        float[] out = new float[image.channels() * image.height() * image.width()];
        apply(image, out, 0);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalize n && Arrays.equals(n.mean, mean) && Arrays.equals(n.std, std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "Normalize[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
