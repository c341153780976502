package io.hgkd.core.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import io.hgkd.core.nn.Parameter;

/**
 * A named set of parameters that share a learning-rate scale and a weight-decay scale, like one entry of a PyTorch
 * optimizer's {@code param_groups} in SparK/MAE ({@code lr_scale}, {@code weight_decay_scale}).
 *
 * <p>An {@link Optimizer} gives this group {@code lr = base lr * lrScale} and
 * {@code weight decay = base weight decay * weightDecayScale} whenever its base values are set, which is how SparK's
 * {@code lr_wd_annealing} applies a schedule to every group.
 *
 * @param name             unique within an optimizer, e.g. {@code decay}, {@code no_decay}, {@code layer3_decay};
 *                         non-empty and without '.', since it appears in state keys ({@code group.<name>.lr})
 * @param params           the parameters under their dotted PyTorch names, in order (copied, unmodifiable)
 * @param lrScale          multiplier of the base learning rate (layer-wise decay), finite and &gt;= 0
 * @param weightDecayScale multiplier of the base weight decay (0 for the no-decay group), finite and &gt;= 0
 */
public record ParamGroup(String name, Map<String, Parameter> params, double lrScale, double weightDecayScale) {

    /** Validates and copies {@code params} (keeping its order). */
    public ParamGroup {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(params, "params");
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("group name '" + name + "' must be non-empty and contain no '.'");
        }
        if (params.isEmpty()) {
            throw new IllegalArgumentException("group '" + name + "' has no parameters");
        }
        params.forEach((k, v) -> {
            if (k == null || k.isEmpty() || v == null) {
                throw new IllegalArgumentException("group '" + name + "' has a null or empty parameter entry");
            }
        });
        if (!(lrScale >= 0) || Double.isInfinite(lrScale)) {
            throw new IllegalArgumentException("group '" + name + "': lrScale must be finite and >= 0, got " + lrScale);
        }
        if (!(weightDecayScale >= 0) || Double.isInfinite(weightDecayScale)) {
            throw new IllegalArgumentException("group '" + name + "': weightDecayScale must be finite and >= 0, got "
                    + weightDecayScale);
        }
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** A group with both scales 1 (plain {@code torch.optim} behaviour). */
    public static ParamGroup of(String name, Map<String, Parameter> params) {
        return new ParamGroup(name, params, 1.0, 1.0);
    }

    /** Number of scalars in this group. */
    public long numElements() {
        return params.values().stream().mapToLong(p -> p.data().length()).sum();
    }
}
