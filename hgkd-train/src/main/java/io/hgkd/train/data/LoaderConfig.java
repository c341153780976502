package io.hgkd.train.data;

/**
 * Settings of a {@link Loader}.
 *
 * @param batchSize       samples per batch
 * @param workers         decoding threads; 0 decodes on the consumer's thread (for debugging)
 * @param prefetchBatches how many batches' worth of samples are decoded ahead of the consumer (bounds memory)
 * @param shuffle         a new seeded permutation every epoch; false keeps index order
 * @param dropLast        drop the last batch of an epoch if it is short
 * @param seed            seeds the permutations and every sample's random generator
 * @param strict          stop at the first bad file instead of skipping it
 * @param logEverySeconds interval of the progress log line within an epoch; 0 logs only the epoch summary
 */
public record LoaderConfig(int batchSize, int workers, int prefetchBatches, boolean shuffle, boolean dropLast,
        long seed, boolean strict, double logEverySeconds) {

    /** Validates the values. */
    public LoaderConfig {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        }
        if (workers < 0) {
            throw new IllegalArgumentException("workers must be >= 0, got " + workers);
        }
        if (prefetchBatches < 1) {
            throw new IllegalArgumentException("prefetchBatches must be at least 1, got " + prefetchBatches);
        }
        if (!(logEverySeconds >= 0) || Double.isInfinite(logEverySeconds)) {
            throw new IllegalArgumentException("logEverySeconds must be >= 0 and finite, got " + logEverySeconds);
        }
    }

    /**
     * Defaults for a batch size: as many workers as processors (at most 8), 2 batches of prefetch, shuffled, last
     * batch kept, seed 0, bad files skipped, a progress line every 30 s.
     */
    public static LoaderConfig of(int batchSize) {
        int workers = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
        return new LoaderConfig(batchSize, workers, 2, true, false, 0L, false, 30.0);
    }

    /** A copy with another worker count. */
    public LoaderConfig withWorkers(int value) {
        return new LoaderConfig(batchSize, value, prefetchBatches, shuffle, dropLast, seed, strict, logEverySeconds);
    }

    /** A copy with another prefetch depth. */
    public LoaderConfig withPrefetchBatches(int value) {
        return new LoaderConfig(batchSize, workers, value, shuffle, dropLast, seed, strict, logEverySeconds);
    }

    /** A copy with shuffling on or off. */
    public LoaderConfig withShuffle(boolean value) {
        return new LoaderConfig(batchSize, workers, prefetchBatches, value, dropLast, seed, strict, logEverySeconds);
    }

    /** A copy with drop-last on or off. */
    public LoaderConfig withDropLast(boolean value) {
        return new LoaderConfig(batchSize, workers, prefetchBatches, shuffle, value, seed, strict, logEverySeconds);
    }

    /** A copy with another seed. */
    public LoaderConfig withSeed(long value) {
        return new LoaderConfig(batchSize, workers, prefetchBatches, shuffle, dropLast, value, strict, logEverySeconds);
    }

    /** A copy with strict mode on or off. */
    public LoaderConfig withStrict(boolean value) {
        return new LoaderConfig(batchSize, workers, prefetchBatches, shuffle, dropLast, seed, value, logEverySeconds);
    }

    /** A copy with another progress interval. */
    public LoaderConfig withLogEverySeconds(double value) {
        return new LoaderConfig(batchSize, workers, prefetchBatches, shuffle, dropLast, seed, strict, value);
    }
}
