package io.hgkd.train.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.hgkd.core.io.SafeTensors;
import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.Optimizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A checkpoint read back from its directory, with helpers that restore it into fresh objects.
 *
 * <p>Directory layout ({@code checkpoint-<step>}, step zero-padded to {@value CheckpointManager#STEP_DIGITS} digits):
 * <ul>
 *   <li>{@code model.safetensors}: the trained module's state dict under its timm/SparK names, and one
 *       {@code <name>.safetensors} per further module (e.g. {@code ema.safetensors});</li>
 *   <li>{@code optimizer.safetensors}: {@link Optimizer#state()};</li>
 *   <li>{@code extra.safetensors}: the job's other tensors (e.g. the teacher-embedding queue), possibly none;</li>
 *   <li>{@code state.json}: {@link TrainingState} plus {@code "modules"} (the module names) and {@code "files"}
 *       (every other file with its size in bytes). It is written last, so its manifest lets a reader tell a complete
 *       checkpoint from a damaged one.</li>
 * </ul>
 *
 * @param dir       the checkpoint directory
 * @param state     its {@code state.json}
 * @param modules   state dicts by module name, {@code model} first
 * @param optimizer the optimizer state
 * @param extra     the extra tensors
 */
public record Checkpoint(Path dir, TrainingState state, Map<String, Map<String, INDArray>> modules,
                         Map<String, INDArray> optimizer, Map<String, INDArray> extra) {
    /** File name of the JSON state, the last file written. */
    public static final String STATE_FILE = "state.json";
    /** File name of the optimizer state. */
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    /** File name of the extra tensors. */
    public static final String EXTRA_FILE = "extra.safetensors";

    static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Copies the maps (unmodifiable). */
    public Checkpoint {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(state, "state");
        modules = Collections.unmodifiableMap(new LinkedHashMap<>(modules));
        optimizer = Collections.unmodifiableMap(new LinkedHashMap<>(optimizer));
        extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    /** What {@link #inspect} finds without reading tensor data. */
    record Header(TrainingState state, List<String> modules) {
    }

    /**
     * Reads a complete checkpoint: checks {@code state.json} and its manifest, then reads every tensor file.
     *
     * @throws CheckpointException naming the directory or file when something is missing or corrupt
     * @throws IOException         when a file cannot be read
     */
    public static Checkpoint load(Path dir) throws IOException {
        Header h = inspect(dir);
        Map<String, Map<String, INDArray>> modules = new LinkedHashMap<>();
        for (String m : h.modules()) {
            modules.put(m, SafeTensors.read(dir.resolve(moduleFile(m))));
        }
        return new Checkpoint(dir, h.state(), modules, SafeTensors.read(dir.resolve(OPTIMIZER_FILE)),
                SafeTensors.read(dir.resolve(EXTRA_FILE)));
    }

    /** Reads only {@code state.json} of a checkpoint after checking that the directory is complete. */
    public static TrainingState readState(Path dir) throws IOException {
        return inspect(dir).state();
    }

    static String moduleFile(String module) {
        return module + ".safetensors";
    }

    /**
     * Validates a checkpoint directory without reading tensor data: {@code state.json} parses, every file in its
     * manifest exists with the recorded size, and every tensor file has a valid safetensors header.
     *
     * @throws NoSuchFileException when {@code state.json} is missing (an incomplete checkpoint)
     * @throws CheckpointException naming the file for anything else
     */
    static Header inspect(Path dir) throws IOException {
        Path stateFile = dir.resolve(STATE_FILE);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(stateFile);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(stateFile.toString(), null,
                    "incomplete checkpoint: " + STATE_FILE + " is missing");
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(stateFile, "corrupt checkpoint state: not valid JSON ("
                    + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(stateFile, "corrupt checkpoint state: not a JSON object");
        }
        TrainingState state;
        try {
            state = TrainingState.fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(stateFile, "corrupt checkpoint state: " + e.getMessage(), e);
        }
        JsonNode mods = root.get("modules");
        JsonNode files = root.get("files");
        if (mods == null || !mods.isArray() || files == null || !files.isObject()) {
            throw new CheckpointException(stateFile, "corrupt checkpoint state: \"modules\" or \"files\" is missing");
        }
        List<String> modules = new ArrayList<>();
        for (JsonNode m : mods) {
            try {
                Snapshot.checkModuleName(m.asText());
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(stateFile, "corrupt checkpoint state: " + e.getMessage(), e);
            }
            modules.add(m.asText());
        }
        if (!modules.contains(Snapshot.MODEL)) {
            throw new CheckpointException(stateFile, "corrupt checkpoint state: no '" + Snapshot.MODEL + "' module");
        }
        List<String> required = new ArrayList<>();
        modules.forEach(m -> required.add(moduleFile(m)));
        required.add(OPTIMIZER_FILE);
        required.add(EXTRA_FILE);
        for (String f : required) {
            if (!files.has(f)) {
                throw new CheckpointException(stateFile, "corrupt checkpoint state: " + f + " is not in \"files\"");
            }
        }
        for (Map.Entry<String, JsonNode> e : files.properties()) {
            Path f = dir.resolve(e.getKey());
            if (!f.normalize().getParent().equals(dir.normalize())) {
                throw new CheckpointException(stateFile, "corrupt checkpoint state: file name '" + e.getKey()
                        + "' leaves the directory");
            }
            if (!Files.isRegularFile(f)) {
                throw new CheckpointException(f, "missing: " + STATE_FILE + " lists it but the file does not exist");
            }
            long size = Files.size(f);
            if (!e.getValue().canConvertToLong() || size != e.getValue().longValue()) {
                throw new CheckpointException(f, "corrupt: " + size + " bytes, but " + STATE_FILE + " records "
                        + e.getValue() + " bytes");
            }
        }
        for (String f : required) {
            // Cheap (header only), and catches a damaged file here rather than deep inside a resume.
            SafeTensors.readHeader(dir.resolve(f));
        }
        return new Header(state, List.copyOf(modules));
    }

    /** The state dict of module {@code name}. */
    public Map<String, INDArray> module(String name) {
        Map<String, INDArray> m = modules.get(name);
        if (m == null) {
            throw new IllegalArgumentException(dir + ": no module '" + name + "' in this checkpoint (has "
                    + modules.keySet() + ")");
        }
        return m;
    }

    /**
     * Loads module {@code name} into {@code target} strictly: every key must match by name and shape.
     *
     * @throws IllegalArgumentException naming the file and listing missing, unexpected and wrong-shape keys
     */
    public void restoreModule(String name, Module target) {
        Map<String, INDArray> dict = module(name);
        try {
            target.loadStateDict(dict, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(dir.resolve(moduleFile(name)) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads the optimizer state into {@code target} (which checks its groups and hyperparameters).
     *
     * @throws IllegalArgumentException naming the file and every problem; {@code target} is unchanged then
     */
    public void restoreOptimizer(Optimizer target) {
        try {
            target.loadState(optimizer);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(dir.resolve(OPTIMIZER_FILE) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks that {@code currentConfig} matches the saved config except for {@code allowedToChange}, then restores
     * {@code model} and {@code optimizer} strictly. The config check comes first so that a mismatched resume fails
     * before anything is modified.
     *
     * @throws ConfigMismatchException listing every differing field that is not allowed to change
     */
    public void restore(JsonNode currentConfig, Collection<String> allowedToChange, Module model,
                        Optimizer optimizer) {
        ConfigDiff.requireCompatible(state.config(), currentConfig, allowedToChange, dir.resolve(STATE_FILE));
        restoreModule(Snapshot.MODEL, model);
        restoreOptimizer(optimizer);
    }
}
