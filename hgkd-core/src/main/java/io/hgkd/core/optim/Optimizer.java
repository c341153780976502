package io.hgkd.core.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import io.hgkd.core.nn.Parameter;

/**
 * Base of the optimizers: parameter groups with their current learning rate and weight decay, the step counter,
 * and the exportable state that makes a resumed run continue exactly.
 *
 * <p>Usage per iteration, as in SparK's loop: set the scheduled base values ({@link #setLr}, {@link #setWeightDecay};
 * each group multiplies them by its scales), run forward and backward (gradients accumulate in
 * {@link Parameter#grad()}), call {@link #step()}, then {@link #zeroGrad()}.
 *
 * <p>Like {@code torch.optim}, a parameter whose gradient was never allocated ({@link Parameter#hasGrad()} false,
 * PyTorch's {@code p.grad is None}) or that is frozen is skipped and gets no state until its first gradient.
 * A gradient that was zeroed still counts (PyTorch's {@code zero_grad(set_to_none=False)}).
 *
 * <p>State ({@link #state()}) uses these keys, all values being detached copies:
 * <ul>
 *   <li>{@code optimizer.step_count}: number of {@link #step()} calls (INT64 scalar);</li>
 *   <li>{@code group.<group>.lr}, {@code group.<group>.weight_decay}: the group's current values (FLOAT64 scalars),
 *       plus optimizer-specific per-group entries such as LAMB's {@code group.<group>.step};</li>
 *   <li>{@code state.<param>.<slot>}: per-parameter buffers under PyTorch's slot names ({@code exp_avg},
 *       {@code exp_avg_sq}, {@code momentum_buffer}) and AdamW's per-parameter {@code step} (INT64 scalar), present
 *       only for parameters that have state;</li>
 *   <li>{@code hparam.<name>}: the fixed hyperparameters (FLOAT64 scalars; booleans as 0/1), which
 *       {@link #loadState} checks against this optimizer's own so that a resume cannot silently change them.</li>
 * </ul>
 * Every value is a plain array, so the map can be written with {@code SafeTensors.write} or {@code Npz.write}.
 *
 * <p>Not thread-safe. FLOAT parameters (with dense gradients and state) are updated by one fused Java pass per
 * element over their direct buffers, in parallel chunks, with the same float32 operations in the same order as the
 * ND4J op chain that other types take; that chain works in place on the state and on scratch buffers shared by all
 * parameters (sized for the largest one). After the first step no parameter-sized array is allocated.
 */
public abstract class Optimizer {
    private final List<ParamGroup> groups;
    private final List<Slot> slots;
    private final List<List<Slot>> groupSlots;
    private final double[] lr;
    private final double[] weightDecay;
    private long stepCount;
    private final Scratch scratch;

    /** One parameter with its position: index into the flat per-parameter state arrays of subclasses. */
    protected record Slot(int index, int group, String name, Parameter param) {
    }

    /**
     * @param groups      at least one group; group names and parameters (by name and by identity) must be unique
     * @param lr          initial base learning rate (finite, &gt;= 0)
     * @param weightDecay initial base weight decay (finite, &gt;= 0)
     * @param scratchBuffers number of parameter-sized scratch buffers the subclass uses per step
     */
    protected Optimizer(List<ParamGroup> groups, double lr, double weightDecay, int scratchBuffers) {
        Objects.requireNonNull(groups, "groups");
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("an optimizer needs at least one parameter group");
        }
        this.groups = List.copyOf(groups);
        Set<String> groupNames = new HashSet<>();
        Set<String> paramNames = new HashSet<>();
        Map<Parameter, String> seen = new IdentityHashMap<>();
        List<Slot> s = new ArrayList<>();
        for (int g = 0; g < this.groups.size(); g++) {
            ParamGroup group = this.groups.get(g);
            if (!groupNames.add(group.name())) {
                throw new IllegalArgumentException("duplicate group name '" + group.name() + "'");
            }
            for (Map.Entry<String, Parameter> e : group.params().entrySet()) {
                if (!paramNames.add(e.getKey())) {
                    throw new IllegalArgumentException("parameter name '" + e.getKey() + "' appears in two groups");
                }
                String other = seen.put(e.getValue(), e.getKey());
                if (other != null) {
                    throw new IllegalArgumentException("the same parameter is registered as '" + other + "' and '"
                            + e.getKey() + "'");
                }
                s.add(new Slot(s.size(), g, e.getKey(), e.getValue()));
            }
        }
        this.slots = List.copyOf(s);
        List<List<Slot>> bySlotGroup = new ArrayList<>();
        for (int g = 0; g < this.groups.size(); g++) {
            final int gi = g;
            bySlotGroup.add(slots.stream().filter(x -> x.group() == gi).toList());
        }
        this.groupSlots = List.copyOf(bySlotGroup);
        this.lr = new double[this.groups.size()];
        this.weightDecay = new double[this.groups.size()];
        long maxLength = slots.stream().mapToLong(x -> x.param().data().length()).max().orElse(1);
        this.scratch = new Scratch(slots.size(), scratchBuffers, maxLength);
        setLr(lr);
        setWeightDecay(weightDecay);
    }

    // ---------------------------------------------------------------- groups and hyperparameters

    /** The parameter groups, in order. */
    public final List<ParamGroup> groups() {
        return groups;
    }

    /** All parameters of all groups, in group order. */
    public final List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>(slots.size());
        slots.forEach(s -> out.add(s.param()));
        return Collections.unmodifiableList(out);
    }

    /** Sets every group's learning rate to {@code baseLr * lrScale} (what a schedule calls per iteration). */
    public final void setLr(double baseLr) {
        checkValue("learning rate", baseLr);
        for (int g = 0; g < groups.size(); g++) {
            lr[g] = baseLr * groups.get(g).lrScale();
        }
    }

    /** Sets every group's weight decay to {@code baseWeightDecay * weightDecayScale}. */
    public final void setWeightDecay(double baseWeightDecay) {
        checkValue("weight decay", baseWeightDecay);
        for (int g = 0; g < groups.size(); g++) {
            weightDecay[g] = baseWeightDecay * groups.get(g).weightDecayScale();
        }
    }

    /** The current learning rate of group {@code group} (index into {@link #groups()}). */
    public final double lr(int group) {
        return lr[group];
    }

    /** The current weight decay of group {@code group}. */
    public final double weightDecay(int group) {
        return weightDecay[group];
    }

    private static void checkValue(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(what + " must be finite and >= 0, got " + v);
        }
    }

    // ---------------------------------------------------------------- stepping

    /** Updates every trainable parameter that has a gradient, using each group's current lr and weight decay. */
    public final void step() {
        doStep();
        stepCount++;
    }

    /** One update; implemented by each optimizer. */
    protected abstract void doStep();

    /** Zeroes the gradients of all parameters in the groups (keeping their buffers). */
    public final void zeroGrad() {
        for (Slot s : slots) {
            s.param().zeroGrad();
        }
    }

    /** Number of completed {@link #step()} calls (restored by {@link #loadState}). */
    public final long stepCount() {
        return stepCount;
    }

    /** Whether {@code p} takes part in a step: trainable with an allocated gradient. */
    protected static boolean isActive(Parameter p) {
        return p.requiresGrad() && p.hasGrad();
    }

    /** All parameters with their indices, in group order. */
    protected final List<Slot> slots() {
        return slots;
    }

    /** The slots of group {@code group}, in order (a contiguous range of {@link #slots()}). */
    protected final List<Slot> slotsOf(int group) {
        return groupSlots.get(group);
    }

    /**
     * Scratch buffer {@code k} for slot {@code slot}, shaped and typed like the slot's parameter. Its contents are
     * undefined on entry, and it aliases the same buffer {@code k} of every other slot.
     */
    protected final INDArray scratch(int slot, int k) {
        return scratch.get(slot, k, slots.get(slot).param().data());
    }

    /** A zero state buffer shaped and typed like {@code p}. */
    protected static INDArray zerosLike(Parameter p) {
        return Nd4j.zeros(p.data().dataType(), p.data().shape());
    }

    /** Checks that {@code buffer} still matches its parameter (fails when a parameter's type changed later). */
    protected static void checkState(Slot s, INDArray buffer, String slotName) {
        if (buffer.dataType() != s.param().data().dataType()) {
            throw new IllegalStateException("parameter '" + s.name() + "' is now " + s.param().data().dataType()
                    + " but its optimizer state " + slotName + " is " + buffer.dataType());
        }
    }

    // ---------------------------------------------------------------- state

    /** The fixed hyperparameters recorded in the state as {@code hparam.<name>} (booleans as 0/1). */
    protected abstract Map<String, Double> hyperParameters();

    /** Adds the optimizer-specific entries (per-parameter buffers, per-group counters) as detached copies. */
    protected abstract void exportState(Map<String, INDArray> out);

    /**
     * Reads and validates the optimizer-specific entries from {@code in} without changing anything, and returns the
     * action that installs them (run only when the whole state was valid, so a failed load changes nothing).
     */
    protected abstract Runnable importState(StateReader in);

    /** Key of per-parameter state. */
    protected static String paramKey(String param, String slot) {
        return "state." + param + "." + slot;
    }

    /** Key of per-group state. */
    protected final String groupKey(int group, String entry) {
        return "group." + groups.get(group).name() + "." + entry;
    }

    /**
     * The complete optimizer state under stable names (see the class comment): detached copies that can be saved
     * and given to {@link #loadState} of an optimizer built with the same groups and hyperparameters.
     */
    public final Map<String, INDArray> state() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put("optimizer.step_count", Nd4j.scalar(stepCount));
        for (int g = 0; g < groups.size(); g++) {
            out.put(groupKey(g, "lr"), Nd4j.scalar(lr[g]));
            out.put(groupKey(g, "weight_decay"), Nd4j.scalar(weightDecay[g]));
        }
        exportState(out);
        hyperParameters().forEach((k, v) -> out.put("hparam." + k, Nd4j.scalar(v)));
        return out;
    }

    /**
     * Restores a state written by {@link #state()}: step counter, group lr and weight decay, per-parameter buffers
     * (copied into this optimizer's own buffers, cast to the parameter type) and per-group counters. Parameters with
     * no entry have no state afterwards, as after construction.
     *
     * @throws IllegalArgumentException naming every problem when an entry is missing, unexpected, of the wrong shape,
     *                                  or a hyperparameter differs; nothing is changed then
     */
    public final void loadState(Map<String, INDArray> state) {
        Objects.requireNonNull(state, "state");
        StateReader in = new StateReader(state);
        long steps = in.longScalar("optimizer.step_count");
        double[] newLr = new double[groups.size()];
        double[] newWd = new double[groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            newLr[g] = in.doubleScalar(groupKey(g, "lr"));
            newWd[g] = in.doubleScalar(groupKey(g, "weight_decay"));
        }
        hyperParameters().forEach((k, v) -> {
            String key = "hparam." + k;
            if (in.has(key)) {
                double saved = in.doubleScalar(key);
                if (Double.compare(saved, v) != 0) {
                    in.problem(key + ": saved " + saved + ", this optimizer has " + v);
                }
            } else {
                in.problem("missing " + key);
            }
        });
        Runnable install = importState(in);
        in.finish(getClass().getSimpleName());
        stepCount = steps;
        System.arraycopy(newLr, 0, lr, 0, lr.length);
        System.arraycopy(newWd, 0, weightDecay, 0, weightDecay.length);
        install.run();
    }

    /**
     * Reads a state map for {@link #loadState}, recording which keys were used and every problem found, so that one
     * error can list them all.
     */
    protected static final class StateReader {
        private final Map<String, INDArray> state;
        private final Set<String> used = new HashSet<>();
        private final List<String> problems = new ArrayList<>();

        StateReader(Map<String, INDArray> state) {
            this.state = state;
        }

        /** Whether {@code key} is present. */
        public boolean has(String key) {
            return state.containsKey(key);
        }

        /** Records a problem (reported together at the end). */
        public void problem(String message) {
            problems.add(message);
        }

        private INDArray scalarArray(String key) {
            INDArray a = state.get(key);
            used.add(key);
            if (a == null) {
                problems.add("missing " + key);
                return null;
            }
            if (a.length() != 1) {
                problems.add(key + ": expected a scalar, got shape " + java.util.Arrays.toString(a.shape()));
                return null;
            }
            return a;
        }

        /** A scalar read as long (0 after recording a problem). */
        public long longScalar(String key) {
            INDArray a = scalarArray(key);
            if (a == null) {
                return 0;
            }
            if (a.dataType().isFPType()) {
                double d = a.getDouble(0);
                if (d != Math.rint(d) || d < 0) {
                    problems.add(key + ": expected a non-negative integer, got " + d);
                    return 0;
                }
                return (long) d;
            }
            return a.getLong(0);
        }

        /** A scalar read as double (0 after recording a problem). */
        public double doubleScalar(String key) {
            INDArray a = scalarArray(key);
            return a == null ? 0 : a.getDouble(0);
        }

        /**
         * A copy of the tensor under {@code key} with the shape and type of {@code like}, or null (with a problem
         * recorded) when it is missing or has another shape.
         */
        public INDArray tensorLike(String key, INDArray like) {
            INDArray a = state.get(key);
            used.add(key);
            if (a == null) {
                problems.add("missing " + key);
                return null;
            }
            if (!java.util.Arrays.equals(a.shape(), like.shape())) {
                problems.add(key + ": expected shape " + java.util.Arrays.toString(like.shape()) + ", got "
                        + java.util.Arrays.toString(a.shape()));
                return null;
            }
            return a.castTo(like.dataType()).dup('c');
        }

        void finish(String who) {
            Set<String> unexpected = new TreeSet<>(state.keySet());
            unexpected.removeAll(used);
            for (String k : unexpected) {
                problems.add("unexpected " + k);
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("cannot load " + who + " state: " + String.join("; ", problems));
            }
        }
    }

    /**
     * Parameter-shaped scratch buffers: for each type, {@code count} flat buffers as long as the largest parameter,
     * viewed with each parameter's shape. The views are made once per slot and reused every step.
     */
    private static final class Scratch {
        private final int count;
        private final long capacity;
        private final INDArray[][] views;
        private final Map<DataType, INDArray[]> flat = new LinkedHashMap<>();

        Scratch(int slots, int count, long capacity) {
            this.count = count;
            this.capacity = Math.max(1, capacity);
            this.views = new INDArray[slots][count];
        }

        INDArray get(int slot, int k, INDArray like) {
            if (k < 0 || k >= count) {
                throw new IndexOutOfBoundsException("scratch buffer " + k + " of " + count);
            }
            INDArray v = views[slot][k];
            if (v == null || v.dataType() != like.dataType() || !java.util.Arrays.equals(v.shape(), like.shape())) {
                INDArray[] bufs = flat.computeIfAbsent(like.dataType(), t -> new INDArray[count]);
                if (bufs[k] == null || bufs[k].length() < like.length()) {
                    bufs[k] = Nd4j.create(like.dataType(), Math.max(capacity, like.length()));
                }
                v = bufs[k].get(NDArrayIndex.interval(0, like.length())).reshape('c', like.shape());
                views[slot][k] = v;
            }
            return v;
        }
    }
}
