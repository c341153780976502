package io.hgkd.core.optim;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import io.hgkd.core.nn.Parameter;

/**
 * {@code torch.optim.SGD} (PyTorch 1.13) with {@code dampening=0}: weight decay coupled into the gradient, then
 * momentum, optionally Nesterov:
 * <pre>
 *   d = g + wd * p
 *   b = d                      (first step)
 *   b = momentum * b + d       (later steps)
 *   d = nesterov ? d + momentum * b : b      (when momentum != 0)
 *   p = p - lr * d
 * </pre>
 * State slot: {@code momentum_buffer} (only with momentum, created at a parameter's first step as in torch).
 */
public final class Sgd extends Optimizer {
    private final Config config;
    private final INDArray[] momentumBuffer;
    /** Per slot during a step: whether its momentum buffer is new (it then takes d as it is). */
    private final boolean[] first;
    /** Per slot during a step: parameter, gradient and momentum buffers of the fused path. */
    private final FloatBuffer[][] buffers;

    /**
     * SGD hyperparameters ({@code torch.optim.SGD} arguments; dampening is fixed at 0).
     *
     * @param lr          initial base learning rate, &gt;= 0
     * @param momentum    momentum factor, &gt;= 0
     * @param weightDecay initial base (coupled, L2) weight decay, &gt;= 0
     * @param nesterov    Nesterov momentum (requires momentum &gt; 0, as in torch)
     */
    public record Config(double lr, double momentum, double weightDecay, boolean nesterov) {
        /** Validates the values. */
        public Config {
            Checks.nonNegative("lr", lr);
            Checks.nonNegative("momentum", momentum);
            Checks.nonNegative("weightDecay", weightDecay);
            if (nesterov && momentum == 0) {
                throw new IllegalArgumentException("Nesterov momentum requires a momentum > 0");
            }
        }

        /** Plain SGD at {@code lr}: no momentum, no weight decay. */
        public static Config of(double lr) {
            return new Config(lr, 0, 0, false);
        }

        /** A copy with another momentum. */
        public Config withMomentum(double v) {
            return new Config(lr, v, weightDecay, nesterov);
        }

        /** A copy with another weight decay. */
        public Config withWeightDecay(double v) {
            return new Config(lr, momentum, v, nesterov);
        }

        /** A copy with Nesterov momentum on or off. */
        public Config withNesterov(boolean v) {
            return new Config(lr, momentum, weightDecay, v);
        }
    }

    /** An SGD over {@code groups} with {@code config}'s initial lr and weight decay. */
    public Sgd(List<ParamGroup> groups, Config config) {
        super(groups, config.lr(), config.weightDecay(), 2);
        this.config = config;
        this.momentumBuffer = new INDArray[slots().size()];
        this.first = new boolean[slots().size()];
        this.buffers = new FloatBuffer[slots().size()][];
    }

    /** The hyperparameters. */
    public Config config() {
        return config;
    }

    @Override
    protected void doStep() {
        double mom = config.momentum();
        List<Fused.Span> spans = new ArrayList<>();
        List<Slot> fused = new ArrayList<>();
        for (Slot s : slots()) {
            Parameter p = s.param();
            if (!isActive(p)) {
                continue;
            }
            int i = s.index();
            first[i] = false;
            if (mom != 0) {
                if (momentumBuffer[i] == null) {
                    momentumBuffer[i] = zerosLike(p); // filled with d on this first step, as torch clones d
                    first[i] = true;
                } else {
                    checkState(s, momentumBuffer[i], "momentum_buffer");
                }
            }
            FloatBuffer w = Fused.floats(p.data());
            FloatBuffer g = Fused.floats(p.grad());
            FloatBuffer b = mom != 0 ? Fused.floats(momentumBuffer[i]) : null;
            if (w != null && g != null && (mom == 0 || b != null)) {
                buffers[i] = new FloatBuffer[] {w, g, b};
                Fused.split(i, p.data().length(), spans);
                fused.add(s);
            } else {
                updateNd4j(s);
            }
        }
        Fused.parallel(spans.size(), k -> updateFloat(spans.get(k)));
        for (Slot s : fused) {
            buffers[s.index()] = null;
        }
    }

    /** One chunk in one pass, with the float32 operations of {@link #updateNd4j} in the same order. */
    private void updateFloat(Fused.Span sp) {
        Slot s = slots().get(sp.slot());
        FloatBuffer[] bufs = buffers[sp.slot()];
        FloatBuffer w = bufs[0], g = bufs[1], b = bufs[2];
        float wd = (float) weightDecay(s.group());
        boolean decay = weightDecay(s.group()) != 0;
        float lr = (float) lr(s.group());
        float mom = (float) config.momentum();
        boolean momentum = config.momentum() != 0;
        boolean nesterov = config.nesterov();
        boolean firstStep = first[sp.slot()];
        for (int j = sp.from(); j < sp.to(); j++) {
            float wj = w.get(j);
            float d = decay ? wj * wd + g.get(j) : g.get(j);
            if (momentum) {
                float bj = firstStep ? d : b.get(j) * mom + d;
                b.put(j, bj);
                d = nesterov ? bj * mom + d : bj;
            }
            w.put(j, wj - d * lr);
        }
    }

    /** The update of one slot as a chain of ND4J ops (for types other than FLOAT, and non-dense arrays). */
    private void updateNd4j(Slot s) {
        double mom = config.momentum();
        int i = s.index();
        INDArray w = s.param().data();
        INDArray d = s.param().grad();
        double wd = weightDecay(s.group());
        double lr = lr(s.group());
        if (wd != 0) {
            d = scratch(i, 0).assign(w).muli(wd).addi(d); // torch: g.add(p, alpha=wd), a new tensor
        }
        if (mom != 0) {
            INDArray b = momentumBuffer[i];
            if (first[i]) {
                b.assign(d); // torch clones d on the first step
            } else {
                b.muli(mom).addi(d);
            }
            if (config.nesterov()) {
                d = scratch(i, 1).assign(b).muli(mom).addi(d);
            } else {
                d = b;
            }
        }
        w.subi(scratch(i, 1).assign(d).muli(lr));
    }

    @Override
    protected Map<String, Double> hyperParameters() {
        Map<String, Double> h = new LinkedHashMap<>();
        h.put("momentum", config.momentum());
        h.put("nesterov", config.nesterov() ? 1.0 : 0.0);
        return h;
    }

    @Override
    protected void exportState(Map<String, INDArray> out) {
        for (Slot s : slots()) {
            if (momentumBuffer[s.index()] != null) {
                out.put(paramKey(s.name(), "momentum_buffer"), momentumBuffer[s.index()].dup());
            }
        }
    }

    @Override
    protected Runnable importState(StateReader in) {
        INDArray[] b = new INDArray[slots().size()];
        for (Slot s : slots()) {
            String key = paramKey(s.name(), "momentum_buffer");
            if (in.has(key)) {
                b[s.index()] = in.tensorLike(key, s.param().data());
            }
        }
        return () -> System.arraycopy(b, 0, momentumBuffer, 0, b.length);
    }
}
