package io.hgkd.models.student;

import io.hgkd.core.nn.ChannelKernels;
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
    private final List<ChannelKernels.Positions> active = new ArrayList<>();
    private final List<INDArray> filled = new ArrayList<>();
    private final List<INDArray> gradFeature = new ArrayList<>();

    /** Tokens for the given channel counts, trunc_normal(0, 0.02) within ±0.02 as SparK. */
    MaskTokens(int[] channels, RandomGenerator rng) {
        for (int i = 0; i < channels.length; i++) {
            INDArray t = Nd4j.zeros(DataType.FLOAT, 1, channels[i], 1, 1);
            Init.truncNormal(t, 0, 0.02, -0.02, 0.02, rng);
            tokens.add(registerParameter(Integer.toString(i), t, true));
            active.add(null);
            filled.add(null);
            gradFeature.add(null);
        }
    }

    Parameter token(int i) {
        return tokens.get(i);
    }

    /**
     * {@code where(active, feature, token_i)} into a buffer of this module (overwritten by the next fill of scale
     * {@code i}).
     */
    INDArray fill(int i, INDArray feature, ActiveMask mask) {
        INDArray x = Tensors.contiguous(feature);
        ChannelKernels.Positions pos = ChannelKernels.Positions.of(x.shape(), mask.like(x));
        active.set(i, pos);
        INDArray out = Tensors.reuse(filled.get(i), x.dataType(), x.shape());
        filled.set(i, out);
        ChannelKernels.fillInactive(x, pos, ChannelKernels.toDoubles(tokens.get(i).data()), out);
        return out;
    }

    /** Accumulates the token gradient (the sum over inactive positions) and returns the feature gradient. */
    INDArray backwardFill(int i, INDArray grad) {
        INDArray g = Tensors.contiguous(grad);
        ChannelKernels.Positions pos = active.get(i);
        INDArray gx = Tensors.reuse(gradFeature.get(i), g.dataType(), g.shape());
        gradFeature.set(i, gx);
        double[] sums = new double[pos.channels()];
        ChannelKernels.splitInactive(g, pos, gx, sums);
        Parameter t = tokens.get(i);
        INDArray gToken = Nd4j.create(t.data().dataType(), t.data().shape());
        ChannelKernels.fromDoubles(sums, gToken);
        t.accumulate(gToken);
        return gx;
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
