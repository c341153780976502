package io.hgkd.models.checkpoint;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checkpoint file described without its data, as {@link Checkpoints#inspect} returns it.
 *
 * @param file      the file
 * @param format    its format
 * @param fileBytes its size on disk
 * @param tensors   tensor specs in file order (unmodifiable)
 * @param metadata  the safetensors {@code __metadata__} (empty for npz; unmodifiable)
 */
public record CheckpointInfo(Path file, Checkpoints.Format format, long fileBytes, Map<String, TensorSpec> tensors,
                             Map<String, String> metadata) {
    /** Copies the maps, keeping their order. */
    public CheckpointInfo {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** The number of elements over all tensors. */
    public long totalElements() {
        return tensors.values().stream().mapToLong(TensorSpec::numElements).sum();
    }

    /** The number of tensors per dtype, sorted by dtype name. */
    public Map<String, Integer> dtypeCounts() {
        Map<String, Integer> out = new TreeMap<>();
        tensors.values().forEach(t -> out.merge(t.dtype(), 1, Integer::sum));
        return out;
    }

    /** The architecture these tensors match. */
    public ArchitectureGuess guess() {
        return ArchitectureGuess.of(tensors);
    }
}
