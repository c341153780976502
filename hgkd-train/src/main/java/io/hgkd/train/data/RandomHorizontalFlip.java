package io.hgkd.train.data;

import java.util.random.RandomGenerator;

/**
 * Mirrors the image left to right with probability {@code p} (one uniform draw per image, as torchvision).
 *
 * @param p flip probability in [0, 1]
 */
public record RandomHorizontalFlip(double p) implements ImageTransform {

    /** Validates {@code p}. */
    public RandomHorizontalFlip {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("flip probability must be in [0, 1], got " + p);
        }
    }

    /** Flips half of the images. */
    public static RandomHorizontalFlip half() {
        return new RandomHorizontalFlip(0.5);
    }

    @Override
    public ByteImage apply(ByteImage image, RandomGenerator rng) {
        return rng.nextDouble() < p ? image.flipHorizontal() : image;
    }
}
