package io.hgkd.train.data;

import java.util.random.RandomGenerator;

/**
 * Resizes so that the shorter side becomes {@code size}, keeping the aspect ratio: torchvision's
 * {@code Resize(size)} with an int, where the longer side is {@code int(size * long / short)} (truncated). An image
 * whose shorter side already equals {@code size} is returned unchanged.
 *
 * @param size          target length of the shorter side
 * @param interpolation resampling filter
 */
public record ResizeShorter(int size, Interpolation interpolation) implements ImageTransform {

    /** Validates the size. */
    public ResizeShorter {
        if (size < 1) {
            throw new IllegalArgumentException("size must be positive, got " + size);
        }
        if (interpolation == null) {
            throw new IllegalArgumentException("interpolation must not be null");
        }
    }

    /** The output {height, width} for an input of {@code height x width}. */
    public int[] outputSize(int height, int width) {
        if (width <= height) {
            return new int[] {(int) ((double) size * height / width), size};
        }
        return new int[] {size, (int) ((double) size * width / height)};
    }

    @Override
    public ByteImage apply(ByteImage image, RandomGenerator rng) {
        int[] hw = outputSize(image.height(), image.width());
        return Resampler.resize(image, hw[0], hw[1], interpolation);
    }
}
