package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))}, as {@code torch.nn.GELU()}. ND4J's own {@code gelu} is the sigmoid
 * approximation and its "precise" variant is wrong in M2.1, so both directions are computed here from erf.
 */
public class GELU extends Activation {
    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);

    private static INDArray erf(INDArray z) {
        Nd4j.exec(new Erf(z, z));
        return z;
    }

    @Override
    protected void apply(INDArray x, INDArray out) {
        INDArray cdf = erf(x.mul(INV_SQRT2)).addi(1.0).muli(0.5);
        out.assign(cdf.muli(x));
    }

    @Override
    protected INDArray derivative(INDArray x) {
        // d/dx [x Phi(x)] = Phi(x) + x phi(x)
        INDArray cdf = erf(x.mul(INV_SQRT2)).addi(1.0).muli(0.5);
        INDArray pdf = Transforms.exp(x.mul(x).muli(-0.5), false).muli(INV_SQRT_2PI);
        return cdf.addi(pdf.muli(x));
    }
}
