package io.hgkd.core.optim;

import io.hgkd.core.nn.RowKernels;
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
 * LAMB exactly as SparK's {@code pretrain/utils/lamb.py}, a copy of timm v0.5.4 {@code timm/optim/lamb.py}
 * ({@code grad_averaging=True}, {@code trust_clip=False}). One step:
 * <ol>
 *   <li>global gradient norm {@code n} over every parameter with a gradient (all groups); the gradients are
 *       multiplied <em>in place</em> by {@code 1 / (n > maxGradNorm ? n / maxGradNorm : 1)} (float32), as SparK
 *       does, so after a step {@link Parameter#grad()} holds the clipped gradient;</li>
 *   <li>per group: {@code step += 1}; {@code bc1 = 1 - beta1^step}, {@code bc2 = 1 - beta2^step}, or both 1
 *       without bias correction;</li>
 *   <li>per parameter: {@code m = beta1 m + (1 - beta1) g}, {@code v = beta2 v + (1 - beta2) g g},
 *       {@code u = (m / bc1) / (sqrt(v) / sqrt(bc2) + eps)}; if {@code wd != 0}, {@code u += wd p};
 *       if {@code wd != 0} or {@code alwaysAdapt}, {@code u *= ||p|| / ||u||} (1 when either norm is 0);
 *       {@code p -= lr u}.</li>
 * </ol>
 * With SparK's pretraining groups the no-decay group has wd 0, so it gets neither decay nor the trust ratio.
 *
 * <p>State: per parameter {@code exp_avg}, {@code exp_avg_sq}; per group {@code group.<name>.step}.
 */
public final class Lamb extends Optimizer {
    private final Config config;
    private final INDArray[] expAvg;
    private final INDArray[] expAvgSq;
    private final long[] groupSteps;
    private double lastGlobalGradNorm = Double.NaN;
    /** Per slot during a step: parameter, gradient, exp_avg, exp_avg_sq buffers of the fused path. */
    private final FloatBuffer[][] buffers;
    /** Per slot during a step: the trust ratio (1 where it does not apply). */
    private final float[] trust;
    /** Per group during a step. */
    private final Scalars[] scalars;

    /**
     * LAMB hyperparameters (SparK/timm {@code Lamb} arguments).
     *
     * @param lr             initial base learning rate (a schedule usually overrides it every step)
     * @param beta1          first-moment decay in [0, 1)
     * @param beta2          second-moment decay in [0, 1)
     * @param eps            added to the denominator, &gt;= 0
     * @param weightDecay    initial base weight decay, &gt;= 0 (added to the update, not decoupled)
     * @param biasCorrection Adam bias correction of both moments
     * @param maxGradNorm    global gradient-norm clip, &gt; 0; {@code Double.POSITIVE_INFINITY} never clips
     * @param alwaysAdapt    apply the trust ratio also where the weight decay is 0
     */
    public record Config(double lr, double beta1, double beta2, double eps, double weightDecay,
                         boolean biasCorrection, double maxGradNorm, boolean alwaysAdapt) {
        /** Validates the values. */
        public Config {
            Checks.nonNegative("lr", lr);
            Checks.beta("beta1", beta1);
            Checks.beta("beta2", beta2);
            Checks.nonNegative("eps", eps);
            Checks.nonNegative("weightDecay", weightDecay);
            if (!(maxGradNorm > 0)) {
                throw new IllegalArgumentException("maxGradNorm must be > 0 (infinity for no clipping), got "
                        + maxGradNorm);
            }
        }

        /** timm's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-6, wd 0.01, bias correction, clip 1.0. */
        public static Config timmDefaults() {
            return new Config(1e-3, 0.9, 0.999, 1e-6, 0.01, true, 1.0, false);
        }

        /**
         * SparK pretraining ({@code pretrain/main.py}): betas (0.9, 0.95) ({@code --ada} 0.95, the ResNet value;
         * ConvNeXt uses 0.999), eps 1e-6, bias correction, global clip 5.0, trust ratio only where wd != 0.
         */
        public static Config sparkPretrain(double lr, double weightDecay) {
            return new Config(lr, 0.9, 0.95, 1e-6, weightDecay, true, 5.0, false);
        }

        /**
         * SparK ResNet fine-tuning ({@code downstream_imagenet}): {@code Lamb(bias_correction=False,
         * always_adapt=True, max_grad_norm=1e7)}, betas (0.9, 0.999), eps 1e-6.
         */
        public static Config sparkFinetune(double lr, double weightDecay) {
            return new Config(lr, 0.9, 0.999, 1e-6, weightDecay, false, 1e7, true);
        }

        /** A copy with another learning rate. */
        public Config withLr(double v) {
            return new Config(v, beta1, beta2, eps, weightDecay, biasCorrection, maxGradNorm, alwaysAdapt);
        }

        /** A copy with other betas. */
        public Config withBetas(double b1, double b2) {
            return new Config(lr, b1, b2, eps, weightDecay, biasCorrection, maxGradNorm, alwaysAdapt);
        }

        /** A copy with another eps. */
        public Config withEps(double v) {
            return new Config(lr, beta1, beta2, v, weightDecay, biasCorrection, maxGradNorm, alwaysAdapt);
        }

        /** A copy with another weight decay. */
        public Config withWeightDecay(double v) {
            return new Config(lr, beta1, beta2, eps, v, biasCorrection, maxGradNorm, alwaysAdapt);
        }

        /** A copy with another global gradient-norm clip. */
        public Config withMaxGradNorm(double v) {
            return new Config(lr, beta1, beta2, eps, weightDecay, biasCorrection, v, alwaysAdapt);
        }
    }

    /** A LAMB over {@code groups} with {@code config}'s initial lr and weight decay. */
    public Lamb(List<ParamGroup> groups, Config config) {
        super(groups, config.lr(), config.weightDecay(), 3);
        this.config = config;
        int n = slots().size();
        this.expAvg = new INDArray[n];
        this.expAvgSq = new INDArray[n];
        this.groupSteps = new long[groups().size()];
        this.buffers = new FloatBuffer[n][];
        this.trust = new float[n];
        this.scalars = new Scalars[groupSteps.length];
    }

    /** The hyperparameters. */
    public Config config() {
        return config;
    }

    /**
     * The global gradient norm (before clipping) of the last {@link #step()}, as a float32 value like SparK's
     * {@code global_grad_norm}; NaN before the first step.
     */
    public double lastGlobalGradNorm() {
        return lastGlobalGradNorm;
    }

    @Override
    protected void doStep() {
        // which slots take the fused FLOAT path, and their chunks
        List<Slot> active = new ArrayList<>();
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
            active.add(s);
            FloatBuffer w = Fused.floats(p.data());
            FloatBuffer g = Fused.floats(p.grad());
            FloatBuffer m = Fused.floats(expAvg[i]);
            FloatBuffer v = Fused.floats(expAvgSq[i]);
            if (w != null && g != null && m != null && v != null) {
                buffers[i] = new FloatBuffer[] {w, g, m, v};
                Fused.split(i, p.data().length(), spans);
            }
        }
        double[] partial = new double[spans.size()];
        Fused.parallel(spans.size(), k -> {
            Fused.Span sp = spans.get(k);
            partial[k] = Fused.sumSquares(buffers[sp.slot()][1], sp.from(), sp.to());
        });
        double sumSq = 0;
        for (double x : partial) {
            sumSq += x;
        }
        for (Slot s : active) {
            if (buffers[s.index()] == null) {
                double n = s.param().grad().norm2Number().doubleValue();
                sumSq += n * n;
            }
        }
        // SparK computes the norm and the clip factor on float32 tensors
        float norm = (float) Math.sqrt(sumSq);
        float max = (float) config.maxGradNorm();
        float clip = 1f / (norm > max ? norm / max : 1f);
        lastGlobalGradNorm = norm;

        for (int g = 0; g < groupSteps.length; g++) {
            long step = ++groupSteps[g];
            double bc1 = 1.0;
            double bc2 = 1.0;
            if (config.biasCorrection()) {
                bc1 = 1 - StrictMath.pow(config.beta1(), step);
                bc2 = 1 - StrictMath.pow(config.beta2(), step);
            }
            double wd = weightDecay(g);
            scalars[g] = new Scalars(clip, (float) bc1, (float) StrictMath.sqrt(bc2), (float) lr(g), (float) wd,
                    wd != 0, wd != 0 || config.alwaysAdapt());
        }
        for (Slot s : active) {
            if (buffers[s.index()] == null) {
                Scalars c = scalars[s.group()];
                updateNd4j(s, clip, c.bc1, c.sqrtBc2, c.lr, c.wd, c.decay, c.adapt);
            }
        }
        // pass 1: clip, moments, and the squared norms of weight and update per chunk
        double[] wSq = new double[spans.size()];
        double[] uSq = new double[spans.size()];
        Fused.parallel(spans.size(), k -> {
            Fused.Span sp = spans.get(k);
            moments(sp, wSq, uSq, k);
        });
        // trust ratio per slot from its chunks (in chunk order)
        for (int k = 0; k < spans.size(); ) {
            int slot = spans.get(k).slot();
            double ws = 0, us = 0;
            for (; k < spans.size() && spans.get(k).slot() == slot; k++) {
                ws += wSq[k];
                us += uSq[k];
            }
            float wNorm = (float) Math.sqrt(ws);
            float uNorm = (float) Math.sqrt(us);
            trust[slot] = scalars[slots().get(slot).group()].adapt && wNorm > 0 && uNorm > 0 ? wNorm / uNorm : 1f;
        }
        // pass 2: recompute the update from the new moments (bit-identical to pass 1's) and apply it
        Fused.parallel(spans.size(), k -> apply(spans.get(k)));
        for (Slot s : active) {
            buffers[s.index()] = null;
        }
    }

    /** One group's scalars of this step, rounded to float32 as ND4J's scalar ops round them. */
    private record Scalars(float clip, float bc1, float sqrtBc2, float lr, float wd, boolean decay, boolean adapt) {
    }

    private void moments(Fused.Span sp, double[] wSq, double[] uSq, int k) {
        FloatBuffer[] b = buffers[sp.slot()];
        FloatBuffer w = b[0], g = b[1], m = b[2], v = b[3];
        Scalars c = scalars[slots().get(sp.slot()).group()];
        float beta1 = (float) config.beta1();
        float beta2 = (float) config.beta2();
        float oneMinusBeta1 = (float) (1 - config.beta1());
        float oneMinusBeta2 = (float) (1 - config.beta2());
        float eps = (float) config.eps();
        boolean clipping = c.clip != 1f;
        double ws = 0, us = 0;
        float[][] work = Fused.work();
        float[] ww = work[0], gw = work[1], mw = work[2], vw = work[3];
        for (int o = sp.from(); o < sp.to(); o += Fused.BLOCK) {
            int n = Math.min(Fused.BLOCK, sp.to() - o);
            w.get(o, ww, 0, n);
            g.get(o, gw, 0, n);
            m.get(o, mw, 0, n);
            v.get(o, vw, 0, n);
            if (clipping) {
                for (int j = 0; j < n; j++) {
                    gw[j] *= c.clip;
                }
                g.put(o, gw, 0, n);
            }
            for (int j = 0; j < n; j++) {
                float gj = gw[j];
                mw[j] = mw[j] * beta1 + gj * oneMinusBeta1;
                vw[j] = vw[j] * beta2 + gj * oneMinusBeta2 * gj;
            }
            m.put(o, mw, 0, n);
            v.put(o, vw, 0, n);
            // the update u, into gw (the clipped gradient is stored already)
            float bc1 = c.bc1, sqrtBc2 = c.sqrtBc2, wd = c.wd;
            if (c.decay) {
                for (int j = 0; j < n; j++) {
                    gw[j] = mw[j] / bc1 / ((float) Math.sqrt(vw[j]) / sqrtBc2 + eps) + ww[j] * wd;
                }
            } else {
                for (int j = 0; j < n; j++) {
                    gw[j] = mw[j] / bc1 / ((float) Math.sqrt(vw[j]) / sqrtBc2 + eps);
                }
            }
            ws += RowKernels.dot(ww, ww, n);
            us += RowKernels.dot(gw, gw, n);
        }
        wSq[k] = ws;
        uSq[k] = us;
    }

    private void apply(Fused.Span sp) {
        FloatBuffer[] b = buffers[sp.slot()];
        FloatBuffer w = b[0], m = b[2], v = b[3];
        Scalars c = scalars[slots().get(sp.slot()).group()];
        float eps = (float) config.eps();
        float tr = trust[sp.slot()];
        float[][] work = Fused.work();
        float[] ww = work[0], mw = work[2], vw = work[3];
        for (int o = sp.from(); o < sp.to(); o += Fused.BLOCK) {
            int n = Math.min(Fused.BLOCK, sp.to() - o);
            w.get(o, ww, 0, n);
            m.get(o, mw, 0, n);
            v.get(o, vw, 0, n);
            float bc1 = c.bc1, sqrtBc2 = c.sqrtBc2, wd = c.wd, lr = c.lr;
            if (c.decay) {
                for (int j = 0; j < n; j++) {
                    float wj = ww[j];
                    float u = mw[j] / bc1 / ((float) Math.sqrt(vw[j]) / sqrtBc2 + eps) + wj * wd;
                    ww[j] = wj - u * tr * lr;
                }
            } else {
                for (int j = 0; j < n; j++) {
                    float u = mw[j] / bc1 / ((float) Math.sqrt(vw[j]) / sqrtBc2 + eps);
                    ww[j] = ww[j] - u * tr * lr;
                }
            }
            w.put(o, ww, 0, n);
        }
    }

    /** The update of one slot as a chain of ND4J ops (for types other than FLOAT, and non-dense arrays). */
    private void updateNd4j(Slot s, float clip, float bc1, float sqrtBc2, float lr, float wd, boolean decay,
                            boolean adapt) {
        int i = s.index();
        INDArray w = s.param().data();
        INDArray g = s.param().grad();
        INDArray m = expAvg[i];
        INDArray v = expAvgSq[i];
        INDArray t0 = scratch(i, 0);
        INDArray u = scratch(i, 1);
        if (clip != 1f) {
            g.muli(clip); // x*1 == x, so skipping the multiply by 1 changes nothing
        }
        m.muli(config.beta1()).addi(t0.assign(g).muli(1 - config.beta1()));
        v.muli(config.beta2()).addi(t0.assign(g).muli(1 - config.beta2()).muli(g));
        Transforms.sqrt(t0.assign(v), false).divi(sqrtBc2).addi(config.eps()); // denom
        u.assign(m).divi(bc1).divi(t0);
        if (decay) {
            u.addi(scratch(i, 2).assign(w).muli(wd));
        }
        if (adapt) {
            float wNorm = w.norm2Number().floatValue();
            float uNorm = u.norm2Number().floatValue();
            float trust = wNorm > 0 && uNorm > 0 ? wNorm / uNorm : 1f;
            u.muli(trust);
        }
        w.subi(u.muli(lr));
    }

    @Override
    protected Map<String, Double> hyperParameters() {
        Map<String, Double> h = new LinkedHashMap<>();
        h.put("beta1", config.beta1());
        h.put("beta2", config.beta2());
        h.put("eps", config.eps());
        h.put("bias_correction", config.biasCorrection() ? 1.0 : 0.0);
        h.put("max_grad_norm", config.maxGradNorm());
        h.put("always_adapt", config.alwaysAdapt() ? 1.0 : 0.0);
        return h;
    }

    @Override
    protected void exportState(Map<String, INDArray> out) {
        for (int g = 0; g < groupSteps.length; g++) {
            out.put(groupKey(g, "step"), Nd4j.scalar(groupSteps[g]));
        }
        for (Slot s : slots()) {
            int i = s.index();
            if (expAvg[i] != null) {
                out.put(paramKey(s.name(), "exp_avg"), expAvg[i].dup());
                out.put(paramKey(s.name(), "exp_avg_sq"), expAvgSq[i].dup());
            }
        }
    }

    @Override
    protected Runnable importState(StateReader in) {
        long[] st = new long[groupSteps.length];
        for (int g = 0; g < st.length; g++) {
            st[g] = in.longScalar(groupKey(g, "step"));
        }
        int n = slots().size();
        INDArray[] m = new INDArray[n];
        INDArray[] v = new INDArray[n];
        for (Slot s : slots()) {
            String km = paramKey(s.name(), "exp_avg");
            String kv = paramKey(s.name(), "exp_avg_sq");
            if (in.has(km) || in.has(kv)) {
                m[s.index()] = in.tensorLike(km, s.param().data());
                v[s.index()] = in.tensorLike(kv, s.param().data());
            }
        }
        return () -> {
            System.arraycopy(st, 0, groupSteps, 0, st.length);
            System.arraycopy(m, 0, expAvg, 0, n);
            System.arraycopy(v, 0, expAvgSq, 0, n);
        };
    }
}
