package io.hgkd.core.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A tensor file ({@code .safetensors}, {@code .npz}) whose content is malformed or unsupported: truncated, bad header,
 * unknown dtype, inconsistent offsets and the like. The message always starts with the file, then the problem:
 * {@code "/path/model.safetensors: tensor 'w' has unknown dtype \"F8_E9\" ..."}.
 *
 * <p>Plain I/O failures (missing file, permission denied) are thrown as the usual {@link IOException}s instead, so a
 * caller can tell "this file is broken" from "this file could not be read".
 */
public class TensorFormatException extends IOException {
    private final transient Path file;

    /** A problem with {@code file}; the message is {@code file + ": " + problem}. */
    public TensorFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** Same, keeping the underlying exception (for instance the JSON parser's). */
    public TensorFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
