package io.hgkd.train.data;

import java.util.random.RandomGenerator;

/**
 * Converts to 1 or 3 channels: gray is replicated to RGB, RGB becomes PIL's luminance
 * ({@link ByteImage#toChannels(int)}).
 *
 * @param channels 1 or 3
 */
public record ToChannels(int channels) implements ImageTransform {

    /** Validates the channel count. */
    public ToChannels {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
    }

    @Override
    public ByteImage apply(ByteImage image, RandomGenerator rng) {
        return image.toChannels(channels);
    }
}
