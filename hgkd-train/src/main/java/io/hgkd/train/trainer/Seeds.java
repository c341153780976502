package io.hgkd.train.trainer;

import java.nio.charset.StandardCharsets;

/**
 * Derives independent seeds from the run's one seed, so that every random stream (data order, masks, init, queue)
 * is a pure function of (seed, purpose, index) and can be recreated at any point of a run without saving a
 * generator's internal state.
 */
public final class Seeds {
    private Seeds() {
    }

    /**
     * A seed for {@code purpose} number {@code index} (a step, an epoch, 0), by SplitMix64 finalisation of the
     * combined inputs: well mixed, so neighbouring steps give unrelated streams.
     */
    public static long derive(long seed, String purpose, long index) {
        long h = 0x9E3779B97F4A7C15L ^ seed;
        for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ (b & 0xFF));
        }
        return mix(h ^ mix(index + 0x632BE59BD9B4E019L));
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
