package io.hgkd.train.checkpoint;

import java.util.List;

/**
 * A resume whose config differs from the checkpoint's in fields that may not change. The message lists every such
 * field with its saved and current value.
 */
public class ConfigMismatchException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final transient List<ConfigDiff.Difference> differences;

    /** @param differences the fields that differ and are not allowed to */
    public ConfigMismatchException(String message, List<ConfigDiff.Difference> differences) {
        super(message);
        this.differences = List.copyOf(differences);
    }

    /** The offending differences, in document order. */
    public List<ConfigDiff.Difference> differences() {
        return differences;
    }
}
