package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))}, as {@code torch.nn.GELU()}. ND4J's own {@code gelu} is the sigmoid
 * approximation and its "precise" variant is wrong in M2.1, so both directions are computed here from erf: for dense
 * float32 arrays in one fused pass ({@link RowKernels#geluFloat}, float-precision erf), otherwise (double precision,
 * as the gradient checks use) from ND4J's erf.
 */
public class GELU extends Activation {
    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);

    private static boolean fastFloat(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (a.dataType() != DataType.FLOAT || !RowKernels.isDense(a)) {
                return false;
            }
        }
        return true;
    }

    /** Phi(x) = 0.5 (1 + erf(x / sqrt 2)) into {@code out}. */
    private static INDArray cdf(INDArray x, INDArray out) {
        out.assign(x).muli(INV_SQRT2);
        Nd4j.exec(new Erf(out, out));
        return out.addi(1.0).muli(0.5);
    }

    @Override
    protected void apply(INDArray x, INDArray out) {
        if (fastFloat(x, out)) {
            RowKernels.geluFloat(x, out);
        } else {
            cdf(x, out).muli(x);
        }
    }

    @Override
    protected void gradient(INDArray x, INDArray g, INDArray out) {
        if (fastFloat(x, g, out)) {
            RowKernels.geluBackwardFloat(x, g, out);
        } else {
            super.gradient(x, g, out);
        }
    }

    @Override
    protected void derivative(INDArray x, INDArray out) {
        // d/dx [x Phi(x)] = Phi(x) + x phi(x)
        INDArray pdf = Transforms.exp(x.mul(x).muli(-0.5), false).muli(INV_SQRT_2PI).muli(x);
        cdf(x, out).addi(pdf);
    }
}
