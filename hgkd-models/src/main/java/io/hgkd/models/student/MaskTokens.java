package io.hgkd.models.student;

import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.nn.Tensors;
import io.hgkd.core.sparse.ActiveMask;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SparK's {@code mask_tokens}, a {@code torch.nn.ParameterList} of learned (1, e_i, 1, 1) tokens named {@code 0, 1,
 * ...} (no weight decay), with the densify fill {@code torch.where(active, feature, token)} and its backward. Like
 * a PyTorch ParameterList it is a container, used through {@link #fill} and {@link #backwardFill}.
 */
final class MaskTokens extends Module {
    private final List<Parameter> tokens = new ArrayList<>();
    private final List<INDArray> active = new ArrayList<>();

    /** Tokens for the given channel counts, trunc_normal(0, 0.02) within ±0.02 as SparK. */
    MaskTokens(int[] channels, RandomGenerator rng) {
        for (int i = 0; i < channels.length; i++) {
            INDArray t = Nd4j.zeros(DataType.FLOAT, 1, channels[i], 1, 1);
            Init.truncNormal(t, 0, 0.02, -0.02, 0.02, rng);
            tokens.add(registerParameter(Integer.toString(i), t, true));
            active.add(null);
        }
    }

    Parameter token(int i) {
        return tokens.get(i);
    }

    /**
     * {@code where(active, feature, token_i)} as a new array; {@code feature} must be 0 at inactive positions (a
     * sparse BN output), so this is {@code feature + (1 - active) * token}.
     */
    INDArray fill(int i, INDArray feature, ActiveMask mask) {
        INDArray m = mask.like(feature);
        active.set(i, m);
        INDArray token = tokens.get(i).data().castTo(feature.dataType());
        return feature.mul(m).addi(m.rsub(1.0).mul(token));
    }

    /** Accumulates the token gradient (the sum over inactive positions) and returns the feature gradient. */
    INDArray backwardFill(int i, INDArray grad) {
        INDArray m = active.get(i);
        INDArray gToken = grad.mul(m.rsub(1.0)).sum(0, 2, 3);
        Parameter t = tokens.get(i);
        t.accumulate(gToken.reshape(t.data().shape()).castTo(t.data().dataType()));
        return grad.mul(m);
    }

    /** Always throws: a parameter list has no forward of its own (as {@code torch.nn.ParameterList}). */
    @Override
    public INDArray forward(INDArray x) {
        throw new UnsupportedOperationException("mask_tokens is a parameter list; the student calls fill(i, x, mask),"
                + " got input " + Tensors.shape(x));
    }

    /** Always throws, see {@link #forward}. */
    @Override
    public INDArray backward(INDArray gradOutput) {
        throw new UnsupportedOperationException("mask_tokens is a parameter list; the student calls backwardFill");
    }
}
