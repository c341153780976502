package io.hgkd.train.data;

import java.util.random.RandomGenerator;

/**
 * One step of a {@link Pipeline}: maps an image to a new image, drawing any randomness from the generator it is
 * given (never from a shared or global one), so the result is a function of the input and the generator's state.
 * Implementations are immutable and safe to share between loader threads.
 */
@FunctionalInterface
public interface ImageTransform {

    /** The transformed image; {@code image} is not modified. */
    ByteImage apply(ByteImage image, RandomGenerator rng);
}
