package io.hgkd.train.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint directory that cannot be used: a corrupt or missing {@code state.json}, a file listed in it that is
 * missing or has the wrong size, a tensor file that does not parse, or a name clash when writing. The message starts
 * with the offending path (the file when one is to blame, else the directory) and then names the problem.
 */
public class CheckpointException extends IOException {
    private final transient Path path;

    /** A problem with {@code path}; the message is {@code path + ": " + problem}. */
    public CheckpointException(Path path, String problem) {
        super(path + ": " + problem);
        this.path = path;
    }

    /** Same, keeping the underlying exception. */
    public CheckpointException(Path path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
    }

    /** The offending file or directory. */
    public Path path() {
        return path;
    }
}
