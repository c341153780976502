package io.hgkd.train.checkpoint;

import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.Optimizer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Everything a checkpoint holds, ready to be written by {@link CheckpointManager#save}.
 *
 * <p>The tensor maps are copied (the map, not the arrays): the writer reads the live arrays, so a snapshot must be
 * written before the next optimizer step changes them. That is how a training loop uses it, and it avoids holding a
 * second copy of every weight.
 *
 * @param state     the {@code state.json} content
 * @param modules   state dicts by module name; {@code model} (the trained module) is required, others such as
 *                  {@code ema} are optional. Each goes to {@code <name>.safetensors}.
 * @param optimizer {@link Optimizer#state()} (may be empty for a run without an optimizer)
 * @param extra     any other named tensors of the job (e.g. the H-GKD teacher-embedding queue); may be empty
 */
public record Snapshot(TrainingState state, Map<String, Map<String, INDArray>> modules,
                       Map<String, INDArray> optimizer, Map<String, INDArray> extra) {
    /** The module every checkpoint has. */
    public static final String MODEL = "model";

    /** Module names become file names, so they are restricted to a safe set. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");

    /** Validates the names and copies the maps, keeping their order. */
    public Snapshot {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(modules, "modules");
        if (!modules.containsKey(MODEL)) {
            throw new IllegalArgumentException("a checkpoint needs the module '" + MODEL + "', got " + modules.keySet());
        }
        Map<String, Map<String, INDArray>> m = new LinkedHashMap<>();
        modules.forEach((name, dict) -> {
            checkModuleName(name);
            m.put(name, Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(dict, name))));
        });
        modules = Collections.unmodifiableMap(m);
        optimizer = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(optimizer, "optimizer")));
        extra = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(extra, "extra")));
    }

    /** A snapshot of {@code model}'s state dict and {@code optimizer}'s state, without other modules or extras. */
    public static Snapshot of(TrainingState state, Module model, Optimizer optimizer) {
        return new Snapshot(state, Map.of(MODEL, model.stateDict()), optimizer.state(), Map.of());
    }

    /** A copy with another module's state dict added (e.g. {@code "ema"}). */
    public Snapshot withModule(String name, Map<String, INDArray> stateDict) {
        Map<String, Map<String, INDArray>> m = new LinkedHashMap<>(modules);
        if (m.put(name, stateDict) != null) {
            throw new IllegalArgumentException("module '" + name + "' is already in the snapshot");
        }
        return new Snapshot(state, m, optimizer, extra);
    }

    /** A copy with {@code tensors} as the extra tensors. */
    public Snapshot withExtra(Map<String, INDArray> tensors) {
        return new Snapshot(state, modules, optimizer, tensors);
    }

    static void checkModuleName(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.equals("optimizer") || name.equals("extra")) {
            throw new IllegalArgumentException("invalid module name '" + name + "': use lower-case letters, digits,"
                    + " '_' and '-', not 'optimizer' or 'extra' (those files are taken)");
        }
    }
}
