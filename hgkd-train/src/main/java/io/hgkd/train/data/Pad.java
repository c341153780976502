package io.hgkd.train.data;

import java.util.random.RandomGenerator;

/**
 * Adds black borders (value 0), for example 2 pixels on each side to turn Fashion-MNIST's 28x28 into 32x32 without
 * resampling.
 *
 * @param top    rows added above
 * @param bottom rows added below
 * @param left   columns added on the left
 * @param right  columns added on the right
 */
public record Pad(int top, int bottom, int left, int right) implements ImageTransform {

    /** Validates that no border is negative. */
    public Pad {
        if (top < 0 || bottom < 0 || left < 0 || right < 0) {
            throw new IllegalArgumentException("padding must not be negative, got top " + top + ", bottom " + bottom
                    + ", left " + left + ", right " + right);
        }
    }

    /** The same border on all four sides. */
    public static Pad uniform(int pixels) {
        return new Pad(pixels, pixels, pixels, pixels);
    }

    @Override
    public ByteImage apply(ByteImage image, RandomGenerator rng) {
        if (top == 0 && bottom == 0 && left == 0 && right == 0) {
            return image;
        }
        int c = image.channels();
        int w = image.width() + left + right;
        int h = image.height() + top + bottom;
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), c)];
        int rowBytes = image.width() * c;
        for (int y = 0; y < image.height(); y++) {
            System.arraycopy(image.pixels(), y * rowBytes, out, ((y + top) * w + left) * c, rowBytes);
        }
        return new ByteImage(c, h, w, out);
    }
}
