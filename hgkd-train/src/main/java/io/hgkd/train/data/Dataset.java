package io.hgkd.train.data;

import java.io.IOException;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Indexed training examples, the input of a {@link Loader}. {@code get} must be safe to call from several threads
 * at once and must take all its randomness from {@code rng}: the loader gives every (seed, epoch, index) its own
 * generator, which makes batches independent of the number of threads.
 */
public interface Dataset {

    /** Number of examples. */
    int size();

    /**
     * Example {@code index} (0-based), decoded and transformed.
     *
     * @throws BadImageException if the underlying file is bad; the loader skips it (or stops, in strict mode)
     * @throws IOException       for other read failures, which stop the loader
     */
    Sample get(int index, RandomGenerator rng) throws IOException;

    /** Where example {@code index} comes from (a file path, or file and position), for log lines and errors. */
    default String describe(int index) {
        return "sample " + index;
    }

    /** Number of classes, 0 for unlabeled data. */
    default int numClasses() {
        return 0;
    }

    /** Directories or files that could not be read while the dataset was indexed, with the reason. */
    default List<String> skippedPaths() {
        return List.of();
    }
}
