package io.hgkd.train.data;

import java.io.IOException;

/** An IDX file (MNIST layout) that is malformed; the message names the file and what is wrong. */
public final class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** A malformed file and what is wrong with it. */
    public IdxFormatException(String file, String problem) {
        super(file + ": " + problem);
    }

    /** A malformed file, what is wrong, and the underlying error. */
    public IdxFormatException(String file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
