package io.hgkd.core.optim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToIntFunction;
import io.hgkd.core.nn.Parameter;

/**
 * Builds {@link ParamGroup}s by SparK's rules ({@code get_param_groups} in SparK's {@code pretrain/utils/lr_control.py}
 * and {@code downstream_imagenet/lr_decay.py}).
 *
 * <ul>
 *   <li>Frozen parameters ({@link Parameter#requiresGrad()} false) are left out.</li>
 *   <li>A parameter goes to the no-decay group (weight-decay scale 0) when it has at most one dimension, its name
 *       ends in {@code .bias}, its name contains one of the no-decay keys (SparK: {@code cls_token},
 *       {@code pos_embed}, {@code mask_token}, {@code gamma}), or {@link Parameter#noWeightDecay()} is set.
 *       Everything else goes to the decay group (scale 1).</li>
 *   <li>With {@link LayerDecay}, each parameter's layer id {@code i} (from a model-supplied function) splits the
 *       groups further into {@code layer<i>_decay} / {@code layer<i>_no_decay} with
 *       {@code lrScale = decay^(numLayers + 1 - i)} (SparK/MAE layer-wise lr decay).</li>
 *   <li>Groups appear in the order of their first parameter in the input map, and parameters keep the input order
 *       (SparK builds them from {@code named_parameters()} the same way), so the result is deterministic for a
 *       {@link java.util.LinkedHashMap} such as {@code Module.namedParameters()}.</li>
 * </ul>
 */
public final class ParamGroups {
    /** The no-weight-decay name keys SparK passes to {@code get_param_groups}. */
    public static final List<String> SPARK_NO_DECAY_KEYS = List.of("cls_token", "pos_embed", "mask_token", "gamma");

    /** Name of the group with weight decay. */
    public static final String DECAY = "decay";
    /** Name of the group without weight decay. */
    public static final String NO_DECAY = "no_decay";

    private ParamGroups() {
    }

    /**
     * Layer-wise learning-rate decay: the parameter named {@code n} gets
     * {@code lrScale = decay^(numLayers + 1 - layerId(n))}, so layer {@code numLayers + 1} (the head) keeps the full
     * learning rate and layer 0 (the stem) gets {@code decay^(numLayers + 1)}.
     *
     * <p>A decay of exactly 1 disables the split, as in SparK (which only uses layer decay for
     * {@code 0 < lr_scale < 1}).
     *
     * @param decay     in (0, 1]
     * @param numLayers N &gt;= 0; layer ids must lie in [0, N + 1]
     * @param layerId   the model's map from a parameter name to its layer id
     */
    public record LayerDecay(double decay, int numLayers, ToIntFunction<String> layerId) {
        /** Validates the values. */
        public LayerDecay {
            Objects.requireNonNull(layerId, "layerId");
            if (!(decay > 0 && decay <= 1)) {
                throw new IllegalArgumentException("layer decay must be in (0, 1], got " + decay);
            }
            if (numLayers < 0) {
                throw new IllegalArgumentException("numLayers must be >= 0, got " + numLayers);
            }
        }

        /** The layer id of {@code name}, checked to lie in [0, numLayers + 1]. */
        public int idOf(String name) {
            int id = layerId.applyAsInt(name);
            if (id < 0 || id > numLayers + 1) {
                throw new IllegalArgumentException("layer id " + id + " of parameter '" + name + "' is outside [0, "
                        + (numLayers + 1) + "]");
            }
            return id;
        }

        /** The learning-rate scale of layer {@code id}: {@code decay^(numLayers + 1 - id)}. */
        public double scaleOf(int id) {
            return StrictMath.pow(decay, numLayers + 1 - id);
        }
    }

    /** SparK's pretraining groups: {@code decay} and {@code no_decay} with the SparK no-decay keys, lr scale 1. */
    public static List<ParamGroup> spark(Map<String, Parameter> params) {
        return build(params, SPARK_NO_DECAY_KEYS, null);
    }

    /** SparK's fine-tuning groups: the no-decay rule of {@link #spark(Map)} split by layer with layer decay. */
    public static List<ParamGroup> spark(Map<String, Parameter> params, LayerDecay layerDecay) {
        return build(params, SPARK_NO_DECAY_KEYS, Objects.requireNonNull(layerDecay, "layerDecay"));
    }

    /** One group named {@code all} holding every trainable parameter with both scales 1 (plain torch usage). */
    public static List<ParamGroup> single(Map<String, Parameter> params) {
        Map<String, Parameter> trainable = new LinkedHashMap<>();
        params.forEach((n, p) -> {
            if (p.requiresGrad()) {
                trainable.put(n, p);
            }
        });
        return List.of(ParamGroup.of("all", trainable));
    }

    /**
     * Groups by the rules in the class comment.
     *
     * @param params      parameters by dotted name, in model order
     * @param noDecayKeys substrings that put a parameter into the no-decay group
     * @param layerDecay  layer-wise decay, or null for none
     * @throws IllegalArgumentException when no parameter is trainable, or a layer id is out of range
     */
    public static List<ParamGroup> build(Map<String, Parameter> params, Collection<String> noDecayKeys,
                                         LayerDecay layerDecay) {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(noDecayKeys, "noDecayKeys");
        boolean layered = layerDecay != null && layerDecay.decay() < 1;
        Map<String, Map<String, Parameter>> members = new LinkedHashMap<>();
        Map<String, double[]> scales = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String name = e.getKey();
            Parameter p = e.getValue();
            if (!p.requiresGrad()) {
                continue;
            }
            boolean noDecay = isNoDecay(name, p, noDecayKeys);
            String group = noDecay ? NO_DECAY : DECAY;
            double lrScale = 1.0;
            if (layered) {
                int id = layerDecay.idOf(name);
                group = "layer" + id + "_" + group;
                lrScale = layerDecay.scaleOf(id);
            }
            double wdScale = noDecay ? 0.0 : 1.0;
            members.computeIfAbsent(group, g -> new LinkedHashMap<>()).put(name, p);
            scales.putIfAbsent(group, new double[] {lrScale, wdScale});
        }
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no trainable parameters among " + params.size());
        }
        List<ParamGroup> out = new ArrayList<>(members.size());
        members.forEach((g, ps) -> out.add(new ParamGroup(g, ps, scales.get(g)[0], scales.get(g)[1])));
        return List.copyOf(out);
    }

    /**
     * SparK's no-decay test: at most one dimension, a {@code .bias} name, a name containing one of {@code keys}, or
     * the parameter's own {@link Parameter#noWeightDecay()} flag.
     */
    public static boolean isNoDecay(String name, Parameter p, Collection<String> keys) {
        if (p.noWeightDecay() || p.data().rank() <= 1 || name.endsWith(".bias")) {
            return true;
        }
        for (String k : keys) {
            if (name.contains(k)) {
                return true;
            }
        }
        return false;
    }
}
