package io.hgkd.models.student;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.ConvTranspose2d;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.ReLU6;
import io.hgkd.core.nn.Sequential;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SparK's {@code UNetBlock(cin, cout)}: {@code up_sample} = ConvTranspose2d(cin, cin, k4, s2, p1, bias), which doubles
 * H and W, then {@code conv} = Conv3x3(cin, cin, no bias) (index 0), BN (1), ReLU6 (2), Conv3x3(cin, cout, no bias)
 * (3), BN (4). There is no activation after the last BN. The BNs are dense, as in SparK's decoder.
 */
public final class UNetBlock extends Module {
    private final ConvTranspose2d upSample;
    private final Sequential conv;
    private final Conv2d conv0;
    private final BatchNorm2d bn1;
    private final Conv2d conv3;
    private final BatchNorm2d bn4;
    private final int cin;
    private final int cout;

    /** A block from {@code cin} to {@code cout} channels, PyTorch-default initialised (see {@link SparkStudent}). */
    public UNetBlock(int cin, int cout) {
        this.cin = cin;
        this.cout = cout;
        upSample = registerModule("up_sample", new ConvTranspose2d(cin, cin, 4, 2, 1, true));
        conv0 = new Conv2d(cin, cin, 3, 1, 1, false);
        bn1 = new BatchNorm2d(cin);
        conv3 = new Conv2d(cin, cout, 3, 1, 1, false);
        bn4 = new BatchNorm2d(cout);
        conv = registerModule("conv", new Sequential(conv0, bn1, new ReLU6(), conv3, bn4));
    }

    /** Input (and up-sampling) channels. */
    public int inChannels() {
        return cin;
    }

    /** Output channels. */
    public int outChannels() {
        return cout;
    }

    /** The transposed convolution. */
    public ConvTranspose2d upSample() {
        return upSample;
    }

    /** The conv-BN-ReLU6-conv-BN stack. */
    public Sequential conv() {
        return conv;
    }

    // conv.2 (ReLU6, stateless) runs fused into conv.1's output pass
    @Override
    public INDArray forward(INDArray x) {
        INDArray h = conv0.forward(upSample.forward(x));
        h = bn1.forward(h, null, null, BatchNorm2d.Act.RELU6);
        return bn4.forward(conv3.forward(h));
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = conv3.backward(bn4.backward(gradOutput));
        return upSample.backward(conv0.backward(bn1.backward(g)));
    }
}
