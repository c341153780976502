package io.hgkd.core.mim;

import io.hgkd.core.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Per-patch target normalisation of SparK's pixel loss (and MAE's {@code norm_pix_loss}):
 * {@code (x - mean) / sqrt(var + eps)} over the last dimension, where {@code var} is <em>unbiased</em>
 * ({@code torch.var}, divides by n-1). Used on targets only, so there is no backward.
 *
 * <p>Instances are immutable; {@link #DEFAULT} uses SparK's eps of 1e-6.
 */
public final class PatchNorm {
    /** SparK's eps. */
    public static final double DEFAULT_EPS = 1e-6;
    /** Normalisation with {@link #DEFAULT_EPS}. */
    public static final PatchNorm DEFAULT = new PatchNorm(DEFAULT_EPS);

    private final double eps;

    /**
     * @param eps added to the variance; must be positive and finite
     */
    public PatchNorm(double eps) {
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("PatchNorm eps must be positive and finite, got " + eps);
        }
        this.eps = eps;
    }

    /** The eps added to the variance. */
    public double eps() {
        return eps;
    }

    /**
     * Normalises each vector along the last dimension.
     *
     * @param patches any rank >= 1 array whose last dimension has at least 2 elements (e.g. (B, L, p*p*C))
     * @return a new array of the same shape and data type
     */
    public INDArray apply(INDArray patches) {
        return normalize(patches, eps);
    }

    /**
     * {@code (x - mean) / sqrt(var_unbiased + eps)} over the last dimension of {@code patches}.
     *
     * @param patches any rank >= 1 array whose last dimension has at least 2 elements
     * @param eps     added to the variance; must be positive
     * @return a new array of the same shape and data type
     */
    public static INDArray normalize(INDArray patches, double eps) {
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("PatchNorm eps must be positive and finite, got " + eps);
        }
        if (patches.rank() < 1) {
            throw new IllegalArgumentException("PatchNorm expects a rank >= 1 array, got shape " + Tensors.shape(patches));
        }
        long d = patches.size(patches.rank() - 1);
        if (d < 2) {
            // the unbiased variance divides by d-1
            throw new IllegalArgumentException("PatchNorm needs at least 2 values per patch for the unbiased variance,"
                    + " got last dimension " + d + " (shape " + Tensors.shape(patches) + ")");
        }
        long[] shape = patches.shape();
        INDArray x2 = Tensors.contiguous(patches).reshape('c', patches.length() / d, d);
        INDArray xc = x2.subColumnVector(x2.mean(1).reshape(-1, 1));
        INDArray var = xc.mul(xc).sum(1).divi(d - 1).reshape(-1, 1);
        INDArray rstd = Transforms.pow(var.addi(eps), -0.5, false);
        return xc.muliColumnVector(rstd).reshape('c', shape);
    }
}
