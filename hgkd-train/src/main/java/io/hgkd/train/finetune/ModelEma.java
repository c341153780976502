package io.hgkd.train.finetune;

import io.hgkd.core.nn.Module;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Exponential moving average of a model's whole state dict, as timm's {@code ModelEmaV2} (SparK fine-tuning: decay
 * 0.9999, updated after every optimizer step).
 *
 * <p>Like {@code ModelEmaV2}, it starts as a copy of the model and applies
 * {@code ema = decay * ema + (1 - decay) * value} to <em>every</em> state-dict entry: parameters and buffers alike
 * (BN running statistics are averaged, not copied). Integer entries such as {@code num_batches_tracked} go through
 * the same formula in float32 and are truncated towards zero when stored back, which is what PyTorch's
 * {@code copy_} into an int64 tensor does. Evaluate the EMA weights by {@link #copyTo(Module)} into a second
 * instance of the architecture.
 */
public final class ModelEma {
    private final double decay;
    private final Map<String, INDArray> state;

    /**
     * Starts the average at a copy of {@code model}'s state.
     *
     * @param decay in [0, 1]
     */
    public ModelEma(Module model, double decay) {
        this(Objects.requireNonNull(model, "model").stateDict(), decay);
    }

    /**
     * Starts the average at a copy of {@code initial} (e.g. an EMA state restored from a checkpoint).
     *
     * @param decay in [0, 1]
     */
    public ModelEma(Map<String, INDArray> initial, double decay) {
        Objects.requireNonNull(initial, "initial");
        if (!(decay >= 0 && decay <= 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
        }
        if (initial.isEmpty()) {
            throw new IllegalArgumentException("EMA of an empty state dict");
        }
        this.decay = decay;
        this.state = new LinkedHashMap<>();
        initial.forEach((k, v) -> state.put(k, v.dup()));
    }

    /** The decay. */
    public double decay() {
        return decay;
    }

    /** One update from the model's current state. */
    public void update(Module model) {
        update(Objects.requireNonNull(model, "model").stateDict());
    }

    /**
     * One update from a state dict with exactly the EMA's keys and shapes.
     *
     * @throws IllegalArgumentException when keys or shapes differ (nothing is updated then)
     */
    public void update(Map<String, INDArray> current) {
        Objects.requireNonNull(current, "current");
        if (!current.keySet().equals(state.keySet())) {
            throw new IllegalArgumentException("EMA keys differ from the model's: EMA has " + state.size()
                    + " entries, model " + current.size() + "; missing in model "
                    + difference(state, current) + ", extra in model " + difference(current, state));
        }
        for (Map.Entry<String, INDArray> e : state.entrySet()) {
            if (!Arrays.equals(e.getValue().shape(), current.get(e.getKey()).shape())) {
                throw new IllegalArgumentException("EMA entry '" + e.getKey() + "' has shape "
                        + Arrays.toString(e.getValue().shape()) + " but the model's has "
                        + Arrays.toString(current.get(e.getKey()).shape()));
            }
        }
        for (Map.Entry<String, INDArray> e : state.entrySet()) {
            INDArray ema = e.getValue();
            INDArray value = current.get(e.getKey());
            if (ema.dataType().isFPType()) {
                ema.muli(decay).addi(value.castTo(ema.dataType()).mul(1.0 - decay));
            } else {
                // PyTorch: decay * long -> float32, then copy_ back into int64 truncates
                float d = (float) decay;
                float rest = (float) (1.0 - decay);
                for (long i = 0; i < ema.length(); i++) {
                    float v = d * (float) ema.getDouble(i) + rest * (float) value.getDouble(i);
                    ema.putScalar(i, (long) v);
                }
            }
        }
    }

    /** Loads the EMA weights into {@code target} (strict: same keys and shapes). */
    public void copyTo(Module target) {
        Objects.requireNonNull(target, "target").loadStateDict(state, true);
    }

    /** A copy of the EMA state dict, in model order, for checkpoints and export. */
    public Map<String, INDArray> stateDict() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        state.forEach((k, v) -> out.put(k, v.dup()));
        return Collections.unmodifiableMap(out);
    }

    private static String difference(Map<String, INDArray> a, Map<String, INDArray> b) {
        return a.keySet().stream().filter(k -> !b.containsKey(k)).limit(10).toList().toString();
    }
}
