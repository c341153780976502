package io.hgkd.train.data;

import java.util.List;

/**
 * Progress of an epoch, or its totals once {@code finished}.
 *
 * @param epoch        the epoch number
 * @param datasetSize  samples in the dataset
 * @param samples      good samples delivered in batches so far
 * @param batches      batches delivered so far
 * @param badFiles     bad files skipped so far
 * @param badFileNames the skipped files (the first 1000)
 * @param dropped      good samples left out by drop-last
 * @param unreadablePaths directories or files the dataset skipped while indexing (see {@link Dataset#skippedPaths})
 * @param seconds      time since the epoch started
 * @param finished     true once the epoch has delivered its last batch
 */
public record EpochSummary(int epoch, int datasetSize, long samples, int batches, int badFiles,
        List<String> badFileNames, int dropped, int unreadablePaths, double seconds, boolean finished) {

    /** Copies the names. */
    public EpochSummary {
        badFileNames = List.copyOf(badFileNames);
    }

    /** Delivered samples per second. */
    public double imagesPerSecond() {
        return seconds > 0 ? samples / seconds : 0;
    }
}
