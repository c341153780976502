package io.hgkd.train.loop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reading, pruning and atomically replacing the JSONL metrics files written by {@link JsonlMetricsListener}.
 */
public final class MetricsFiles {

    /** Per-step records. */
    public static final String STEPS = "metrics.jsonl";
    /** Per-epoch records. */
    public static final String EPOCHS = "epochs.jsonl";

    private static final Logger LOG = LoggerFactory.getLogger(MetricsFiles.class);
    static final ObjectMapper JSON = new ObjectMapper();

    private MetricsFiles() {
    }

    /**
     * The records of a JSONL file whose integer field {@code key} is below {@code limit}, in file order; an absent
     * file gives an empty list. Lines that do not parse (the torn last line of a killed run) are skipped with a
     * warning.
     */
    public static List<ObjectNode> read(Path file, String key, long limit) {
        List<ObjectNode> kept = new ArrayList<>();
        if (!Files.exists(file)) {
            return kept;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException e) {
                node = null;
            }
            if (!(node instanceof ObjectNode obj) || !node.path(key).canConvertToLong()) {
                LOG.warn("{} line {} is not a complete record (a run killed mid-write?); dropped: {}", file, i + 1,
                        line.length() > 200 ? line.substring(0, 200) + "..." : line);
                continue;
            }
            if (obj.get(key).asLong() < limit) {
                kept.add(obj);
            }
        }
        return kept;
    }

    /**
     * Rewrites {@code file} keeping only records with {@code key < limit} (and dropping torn lines), through a
     * temporary file and a rename so a crash here leaves either the old or the new file. Returns the number of
     * records kept. Does nothing when the file does not exist.
     */
    static int prune(Path file, String key, long limit) {
        if (!Files.exists(file)) {
            return 0;
        }
        List<ObjectNode> kept = read(file, key, limit);
        StringBuilder sb = new StringBuilder();
        for (ObjectNode node : kept) {
            sb.append(node.toString()).append('\n');
        }
        try {
            replaceAtomically(file, sb.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite " + file, e);
        }
        return kept.size();
    }

    /** Writes {@code bytes} to a temporary sibling of {@code target}, then renames it over {@code target}. */
    static void replaceAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        move(tmp, target);
    }

    /** Renames {@code tmp} over {@code target}, atomically where the file system can. */
    static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Puts a number, or JSON null when it is NaN or infinite (bare NaN is not JSON and breaks most readers). */
    static void putNumber(ObjectNode node, String name, double v) {
        if (Double.isFinite(v)) {
            node.put(name, v);
        } else {
            node.putNull(name);
        }
    }

    /** Puts a name-to-number object, non-finite values as null. */
    static void putMap(ObjectNode node, String name, Map<String, Double> values) {
        ObjectNode child = node.putObject(name);
        values.forEach((k, v) -> putNumber(child, k, v));
    }

    /** A double field, NaN when absent or null. */
    static double number(JsonNode node, String name) {
        JsonNode v = node.get(name);
        return v != null && v.isNumber() ? v.asDouble() : Double.NaN;
    }
}
