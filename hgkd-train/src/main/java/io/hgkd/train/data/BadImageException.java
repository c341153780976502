package io.hgkd.train.data;

import java.io.IOException;

/**
 * A file that cannot be turned into an image: empty, truncated, corrupt, in an unsupported format, or unreadable.
 * The {@link Loader} skips such a sample (or, in strict mode, stops with it); the message always names the file.
 */
public final class BadImageException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final String reason;

    /** A bad file and why. */
    public BadImageException(String file, String reason) {
        this(file, reason, null);
    }

    /** A bad file, why, and the decoder's exception. */
    public BadImageException(String file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
        this.file = file;
        this.reason = reason;
    }

    /** The file (path or description) that is bad. */
    public String file() {
        return file;
    }

    /** Why it is bad, without the file name. */
    public String reason() {
        return reason;
    }
}
