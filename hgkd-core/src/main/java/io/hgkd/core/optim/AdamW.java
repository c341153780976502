package io.hgkd.core.optim;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import io.hgkd.core.nn.Parameter;

/**
 * {@code torch.optim.AdamW} (PyTorch 1.13, {@code amsgrad=False}, {@code maximize=False}): decoupled weight decay,
 * then Adam with bias correction and eps added after the square root. Per parameter, with its own step count t:
 * <pre>
 *   p  = p * (1 - lr * wd)
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * g * g
 *   p  = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * State slots: {@code exp_avg}, {@code exp_avg_sq}, {@code step} (per parameter, as in torch).
 */
public final class AdamW extends Optimizer {
    private final Config config;
    private final INDArray[] expAvg;
    private final INDArray[] expAvgSq;
    private final long[] steps;
    /** Per slot during a step: parameter, gradient, exp_avg, exp_avg_sq buffers of the fused path. */
    private final FloatBuffer[][] buffers;

    /**
     * AdamW hyperparameters ({@code torch.optim.AdamW} arguments).
     *
     * @param lr          initial base learning rate (a schedule usually overrides it every step)
     * @param beta1       first-moment decay in [0, 1)
     * @param beta2       second-moment decay in [0, 1)
     * @param eps         added to the denominator, &gt;= 0
     * @param weightDecay initial base decoupled weight decay, &gt;= 0
     */
    public record Config(double lr, double beta1, double beta2, double eps, double weightDecay) {
        /** Validates the values. */
        public Config {
            Checks.nonNegative("lr", lr);
            Checks.beta("beta1", beta1);
            Checks.beta("beta2", beta2);
            Checks.nonNegative("eps", eps);
            Checks.nonNegative("weightDecay", weightDecay);
        }

        /** PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2. */
        public static Config torchDefaults() {
            return new Config(1e-3, 0.9, 0.999, 1e-8, 1e-2);
        }

        /** A copy with another learning rate. */
        public Config withLr(double v) {
            return new Config(v, beta1, beta2, eps, weightDecay);
        }

        /** A copy with other betas. */
        public Config withBetas(double b1, double b2) {
            return new Config(lr, b1, b2, eps, weightDecay);
        }

        /** A copy with another eps. */
        public Config withEps(double v) {
            return new Config(lr, beta1, beta2, v, weightDecay);
        }

        /** A copy with another weight decay. */
        public Config withWeightDecay(double v) {
            return new Config(lr, beta1, beta2, eps, v);
        }
    }

    /** An AdamW over {@code groups} with {@code config}'s initial lr and weight decay. */
    public AdamW(List<ParamGroup> groups, Config config) {
        super(groups, config.lr(), config.weightDecay(), 2);
        this.config = config;
        int n = slots().size();
        this.expAvg = new INDArray[n];
        this.expAvgSq = new INDArray[n];
        this.steps = new long[n];
        this.buffers = new FloatBuffer[n][];
    }

    /** The hyperparameters. */
    public Config config() {
        return config;
    }

    @Override
    protected void doStep() {
        List<Slot> fused = new ArrayList<>();
        List<Fused.Span> spans = new ArrayList<>();
        for (Slot s : slots()) {
            Parameter p = s.param();
            if (!isActive(p)) {
                continue;
            }
            int i = s.index();
            if (expAvg[i] == null) {
                expAvg[i] = zerosLike(p);
                expAvgSq[i] = zerosLike(p);
            }
            checkState(s, expAvg[i], "exp_avg");
            long step = ++steps[i];
            FloatBuffer w = Fused.floats(p.data());
            FloatBuffer g = Fused.floats(p.grad());
            FloatBuffer m = Fused.floats(expAvg[i]);
            FloatBuffer v = Fused.floats(expAvgSq[i]);
            if (w != null && g != null && m != null && v != null) {
                buffers[i] = new FloatBuffer[] {w, g, m, v};
                Fused.split(i, p.data().length(), spans);
                fused.add(s);
            } else {
                updateNd4j(s, step);
            }
        }
        Fused.parallel(spans.size(), k -> {
            Fused.Span sp = spans.get(k);
            updateFloat(slots().get(sp.slot()), sp.from(), sp.to());
        });
        for (Slot s : fused) {
            buffers[s.index()] = null;
        }
    }

    /**
     * Elements {@code [from, to)} of a FLOAT slot in one pass: the same float32 operations, in the same order, as
     * {@link #updateNd4j} (an ND4J op with a double scalar rounds the scalar to float first).
     */
    private void updateFloat(Slot s, int from, int to) {
        FloatBuffer[] b = buffers[s.index()];
        FloatBuffer w = b[0], g = b[1], m = b[2], v = b[3];
        long step = steps[s.index()];
        double lr = lr(s.group());
        double wd = weightDecay(s.group());
        boolean decay = wd != 0;
        float keep = (float) (1 - lr * wd);
        float beta1 = (float) config.beta1();
        float beta2 = (float) config.beta2();
        float oneMinusBeta1 = (float) (1 - config.beta1());
        float oneMinusBeta2 = (float) (1 - config.beta2());
        float sqrtBc2 = (float) StrictMath.sqrt(1 - StrictMath.pow(config.beta2(), step));
        float eps = (float) config.eps();
        float stepSize = (float) (lr / (1 - StrictMath.pow(config.beta1(), step)));
        float[][] work = Fused.work();
        float[] ww = work[0], gw = work[1], mw = work[2], vw = work[3];
        for (int o = from; o < to; o += Fused.BLOCK) {
            int n = Math.min(Fused.BLOCK, to - o);
            w.get(o, ww, 0, n);
            g.get(o, gw, 0, n);
            m.get(o, mw, 0, n);
            v.get(o, vw, 0, n);
            for (int j = 0; j < n; j++) {
                float gj = gw[j];
                float mj = mw[j] * beta1 + gj * oneMinusBeta1;
                float vj = vw[j] * beta2 + gj * oneMinusBeta2 * gj;
                mw[j] = mj;
                vw[j] = vj;
                float wj = decay ? ww[j] * keep : ww[j];
                float denom = (float) Math.sqrt(vj) / sqrtBc2 + eps;
                ww[j] = wj - mj / denom * stepSize;
            }
            w.put(o, ww, 0, n);
            m.put(o, mw, 0, n);
            v.put(o, vw, 0, n);
        }
    }

    /** The update of one slot as a chain of ND4J ops (for types other than FLOAT, and non-dense arrays). */
    private void updateNd4j(Slot s, long step) {
        int i = s.index();
        double beta1 = config.beta1();
        double beta2 = config.beta2();
        INDArray w = s.param().data();
        INDArray g = s.param().grad();
        INDArray m = expAvg[i];
        INDArray v = expAvgSq[i];
        INDArray t0 = scratch(i, 0);
        INDArray t1 = scratch(i, 1);
        double lr = lr(s.group());
        double wd = weightDecay(s.group());
        if (wd != 0) {
            w.muli(1 - lr * wd); // torch multiplies by 1 - lr*wd even when it is 1; x*1 == x, so skip it
        }
        m.muli(beta1).addi(t0.assign(g).muli(1 - beta1));
        v.muli(beta2).addi(t0.assign(g).muli(1 - beta2).muli(g)); // torch addcmul: v + (c*g)*g
        // StrictMath: bit-reproducible on every JVM, so a resumed run recomputes identical scalars
        double bc1 = 1 - StrictMath.pow(beta1, step);
        double bc2 = 1 - StrictMath.pow(beta2, step);
        double stepSize = lr / bc1;
        Transforms.sqrt(t0.assign(v), false).divi(StrictMath.sqrt(bc2)).addi(config.eps()); // denom
        w.subi(t1.assign(m).divi(t0).muli(stepSize));
    }

    @Override
    protected Map<String, Double> hyperParameters() {
        Map<String, Double> h = new LinkedHashMap<>();
        h.put("beta1", config.beta1());
        h.put("beta2", config.beta2());
        h.put("eps", config.eps());
        return h;
    }

    @Override
    protected void exportState(Map<String, INDArray> out) {
        for (Slot s : slots()) {
            int i = s.index();
            if (expAvg[i] != null) {
                out.put(paramKey(s.name(), "step"), Nd4j.scalar(steps[i]));
                out.put(paramKey(s.name(), "exp_avg"), expAvg[i].dup());
                out.put(paramKey(s.name(), "exp_avg_sq"), expAvgSq[i].dup());
            }
        }
    }

    @Override
    protected Runnable importState(StateReader in) {
        int n = slots().size();
        INDArray[] m = new INDArray[n];
        INDArray[] v = new INDArray[n];
        long[] st = new long[n];
        for (Slot s : slots()) {
            String key = paramKey(s.name(), "exp_avg");
            if (in.has(key) || in.has(paramKey(s.name(), "exp_avg_sq")) || in.has(paramKey(s.name(), "step"))) {
                INDArray like = s.param().data();
                m[s.index()] = in.tensorLike(key, like);
                v[s.index()] = in.tensorLike(paramKey(s.name(), "exp_avg_sq"), like);
                st[s.index()] = in.longScalar(paramKey(s.name(), "step"));
            }
        }
        return () -> {
            System.arraycopy(m, 0, expAvg, 0, n);
            System.arraycopy(v, 0, expAvgSq, 0, n);
            System.arraycopy(st, 0, steps, 0, n);
        };
    }
}
