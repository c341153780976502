package io.hgkd.train.data;

/**
 * A {@link Loader} could not continue: a worker failed (a transform or read error that is not a bad file), a bad
 * file was met in strict mode, samples have different shapes, or the consumer was interrupted. The message names the
 * sample's source; the cause is the original exception.
 */
public final class DataLoadingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A failure and its cause. */
    public DataLoadingException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A failure. */
    public DataLoadingException(String message) {
        super(message);
    }
}
