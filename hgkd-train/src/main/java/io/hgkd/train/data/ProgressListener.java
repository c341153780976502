package io.hgkd.train.data;

/** Receives a {@link Loader}'s progress on the consumer's thread. Both methods do nothing by default. */
public interface ProgressListener {

    /** Does nothing. */
    ProgressListener NONE = new ProgressListener() {
    };

    /** After each batch is handed out. */
    default void onBatch(EpochSummary progress) {
    }

    /** When an epoch has delivered its last batch. */
    default void onEpochEnd(EpochSummary summary) {
    }
}
