package io.hgkd.train.data;

import java.util.random.RandomGenerator;

/**
 * Resizes to exactly {@code height x width}, ignoring the aspect ratio (for example Fashion-MNIST's 28x28 to 32x32).
 *
 * @param height        output rows
 * @param width         output columns
 * @param interpolation resampling filter
 */
public record Resize(int height, int width, Interpolation interpolation) implements ImageTransform {

    /** Validates the size. */
    public Resize {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("output size must be positive, got " + height + "x" + width);
        }
        if (interpolation == null) {
            throw new IllegalArgumentException("interpolation must not be null");
        }
    }

    @Override
    public ByteImage apply(ByteImage image, RandomGenerator rng) {
        return Resampler.resize(image, height, width, interpolation);
    }
}
