package io.hgkd.core.optim;

import java.nio.FloatBuffer;
import java.util.Objects;
import io.hgkd.core.nn.Parameter;

/**
 * Operations on the accumulated gradients of a set of parameters. Only trainable parameters with an allocated
 * gradient take part (PyTorch's {@code p.grad is not None}); the others are ignored.
 */
public final class Gradients {
    private Gradients() {
    }

    /**
     * {@code torch.nn.utils.clip_grad_norm_} with the L2 norm: computes the norm {@code n} of all gradients as one
     * vector, multiplies every gradient in place by {@code min(1, maxNorm / (n + 1e-6))} and returns {@code n}.
     * As in PyTorch (with {@code error_if_nonfinite=False}), a non-finite norm is returned and makes the gradients
     * non-finite; check the returned value when that matters.
     *
     * @param maxNorm finite and &gt; 0
     * @return the total norm before clipping (a float32 value, as torch returns), 0 when no parameter has a gradient
     */
    public static double clipGradNorm(Iterable<Parameter> params, double maxNorm) {
        Checks.positive("maxNorm", maxNorm);
        float total = (float) globalNorm(params);
        // torch: max_norm / (total_norm + 1e-6) on a float32 tensor, which torch evaluates as
        // reciprocal(total_norm + 1e-6) * max_norm, then clamps to at most 1
        float coef = (1f / (total + 1e-6f)) * (float) maxNorm;
        if (coef < 1f || Float.isNaN(coef)) {
            scale(params, coef);
        }
        return total;
    }

    /**
     * The L2 norm of all gradients taken together (the square root of the sum of the per-tensor squared norms,
     * accumulated in double; FLOAT gradients are summed in double element by element).
     */
    public static double globalNorm(Iterable<Parameter> params) {
        Objects.requireNonNull(params, "params");
        double sumSq = 0;
        for (Parameter p : params) {
            if (p.requiresGrad() && p.hasGrad()) {
                FloatBuffer g = Fused.floats(p.grad());
                if (g != null) {
                    sumSq += Fused.sumSquares(g);
                } else {
                    double n = p.grad().norm2Number().doubleValue();
                    sumSq += n * n;
                }
            }
        }
        return Math.sqrt(sumSq);
    }

    /** Multiplies every gradient in place by {@code factor}. */
    public static void scale(Iterable<Parameter> params, double factor) {
        Objects.requireNonNull(params, "params");
        for (Parameter p : params) {
            if (p.requiresGrad() && p.hasGrad()) {
                FloatBuffer g = Fused.floats(p.grad());
                if (g != null) {
                    // as muli(factor), which rounds the factor to float first
                    int n = g.capacity();
                    float f = (float) factor;
                    Fused.parallel((n + Fused.CHUNK - 1) / Fused.CHUNK,
                            c -> Fused.scale(g, c * Fused.CHUNK, Math.min(n, (c + 1) * Fused.CHUNK), f));
                } else {
                    p.grad().muli(factor);
                }
            }
        }
    }
}
