package io.hgkd.core.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An eager layer with an explicit backward pass, in the style of {@code torch.nn.Module}.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #forward(INDArray)} computes the output and caches what {@link #backward(INDArray)} needs. The
 *       returned array may be a buffer owned by the module that the next forward call overwrites: {@code dup()} it
 *       to keep it.</li>
 *   <li>{@link #backward(INDArray)} takes the gradient of the loss with respect to the last output, <em>adds</em>
 *       parameter gradients into {@link Parameter#grad()} and returns the gradient with respect to the last input.
 *       One backward per forward; a module instance appears once in a graph.</li>
 *   <li>Parameters, buffers (e.g. BN running statistics) and children are registered under PyTorch names, so
 *       {@link #stateDict()} keys are the dotted names of the equivalent PyTorch model
 *       ({@code layer1.0.conv1.weight}).</li>
 * </ul>
 */
public abstract class Module {
    private Map<String, Parameter> params = new LinkedHashMap<>();
    private Map<String, INDArray> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Computes the output for {@code x} and caches what backward needs. */
    public abstract INDArray forward(INDArray x);

    /** Back-propagates {@code gradOutput}; accumulates parameter gradients; returns the input gradient. */
    public abstract INDArray backward(INDArray gradOutput);

    /** Registers a parameter under {@code name} and returns it. */
    protected final Parameter registerParameter(String name, INDArray value, boolean noWeightDecay) {
        checkName(name);
        Parameter p = new Parameter(value, noWeightDecay);
        params.put(name, p);
        return p;
    }

    /** Registers a non-trainable state tensor (saved in the state dict, updated in place). */
    protected final void registerBuffer(String name, INDArray value) {
        checkName(name);
        buffers.put(name, value);
    }

    /** Registers a child module under {@code name} and returns it. */
    protected final <M extends Module> M registerModule(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    /**
     * Makes this module share the parameters and buffers of {@code other} (same objects, same names): the
     * mechanism behind sparse twins of dense layers.
     */
    protected final void shareStateWith(Module other) {
        this.params = other.params;
        this.buffers = other.buffers;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("invalid name '" + name + "': must be non-empty without '.'");
        }
        if (params.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("name '" + name + "' is already registered");
        }
    }

    /** A parameter of this module (not of children) by local name. */
    protected final Parameter param(String name) {
        Parameter p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter '" + name + "' in " + getClass().getSimpleName());
        }
        return p;
    }

    /** A buffer of this module (not of children) by local name. */
    protected final INDArray buffer(String name) {
        return buffers.get(name);
    }

    /** Replaces a buffer of this module (used when its type changes). */
    protected final void setBuffer(String name, INDArray value) {
        if (!buffers.containsKey(name)) {
            throw new IllegalArgumentException("no buffer '" + name + "'");
        }
        buffers.put(name, value);
    }

    /** Direct children in registration order. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** All parameters, recursively, under dotted PyTorch-style names, in registration order. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collectParams("", out);
        return out;
    }

    private void collectParams(String prefix, Map<String, Parameter> out) {
        params.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, c) -> c.collectParams(prefix + k + ".", out));
    }

    /** All parameters, recursively. */
    public final List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** All buffers, recursively, under dotted names. */
    public final Map<String, INDArray> namedBuffers() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        collectBuffers("", out);
        return out;
    }

    private void collectBuffers(String prefix, Map<String, INDArray> out) {
        buffers.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, c) -> c.collectBuffers(prefix + k + ".", out));
    }

    /**
     * Parameters and buffers under dotted names, in PyTorch's order (a module's own parameters, then its own
     * buffers, then each child). The arrays are the live tensors, not copies.
     */
    public final Map<String, INDArray> stateDict() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, INDArray> out) {
        params.forEach((k, v) -> out.put(prefix + k, v.data()));
        buffers.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, c) -> c.collectState(prefix + k + ".", out));
    }

    /**
     * Copies tensors from {@code state} into this module's parameters and buffers.
     *
     * @param strict when true, any missing, unexpected or wrong-shape key throws with the full report
     * @return which keys were missing, unexpected or had the wrong shape (those are not copied)
     */
    public final LoadReport loadStateDict(Map<String, INDArray> state, boolean strict) {
        Map<String, INDArray> own = stateDict();
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> wrongShape = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : own.entrySet()) {
            INDArray src = state.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(src.shape(), e.getValue().shape())) {
                wrongShape.add(e.getKey() + ": expected " + Arrays.toString(e.getValue().shape()) + ", got "
                        + Arrays.toString(src.shape()));
            }
        }
        for (String k : state.keySet()) {
            if (!own.containsKey(k)) {
                unexpected.add(k);
            }
        }
        LoadReport report = new LoadReport(missing, unexpected, wrongShape);
        if (strict && !report.isClean()) {
            throw new IllegalArgumentException("state dict does not match " + getClass().getSimpleName() + ": "
                    + report);
        }
        for (Map.Entry<String, INDArray> e : own.entrySet()) {
            INDArray src = state.get(e.getKey());
            if (src != null && Arrays.equals(src.shape(), e.getValue().shape())) {
                e.getValue().assign(src.castTo(e.getValue().dataType()));
            }
        }
        return report;
    }

    /** Sets training ({@code true}) or evaluation mode on this module and all children. */
    public Module train(boolean mode) {
        this.training = mode;
        children.values().forEach(c -> c.train(mode));
        return this;
    }

    /** Evaluation mode: BN uses running statistics, dropout and drop-path are identities. */
    public final Module eval() {
        return train(false);
    }

    /** Whether this module is in training mode. */
    public final boolean isTraining() {
        return training;
    }

    /** Zeroes all parameter gradients, keeping their buffers. */
    public final void zeroGrad() {
        parameters().forEach(Parameter::zeroGrad);
    }

    /**
     * Converts floating-point parameters, gradients and buffers to {@code type} (e.g. DOUBLE for gradient checks).
     * Integer buffers (such as {@code num_batches_tracked}) keep their type.
     */
    public Module to(DataType type) {
        params.values().forEach(p -> p.convert(type));
        buffers.replaceAll((k, v) -> v.dataType().isFPType() ? v.castTo(type) : v);
        children.values().forEach(c -> c.to(type));
        return this;
    }

    /** Number of trainable scalars. */
    public final long numParameters() {
        return parameters().stream().mapToLong(p -> p.data().length()).sum();
    }
}
