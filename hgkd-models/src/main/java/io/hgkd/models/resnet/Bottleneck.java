package io.hgkd.models.resnet;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.ReLU;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.sparse.SparseBatchNorm2d;
import io.hgkd.core.sparse.SparseConv2d;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm/torchvision {@code Bottleneck} (ResNet-50/101/152, "ResNet v1.5"): conv1 1x1 - bn1 - ReLU - conv2 3x3 with the
 * stride - bn2 - ReLU - conv3 1x1 to {@code 4 * planes} - bn3, then drop path, the shortcut add and ReLU.
 */
public final class Bottleneck extends ResidualBlock {
    /** Output channels per plane. */
    public static final int EXPANSION = 4;

    private final SparseConv2d conv1;
    private final SparseBatchNorm2d bn1;
    private final ReLU act1 = new ReLU();
    private final SparseConv2d conv2;
    private final SparseBatchNorm2d bn2;
    private final ReLU act2 = new ReLU();
    private final SparseConv2d conv3;
    private final SparseBatchNorm2d bn3;

    /**
     * @param inplanes     input channels
     * @param planes       width of the 1x1/3x3 convs; the block outputs {@code 4 * planes}
     * @param stride       stride of conv2 and of the shortcut
     * @param dropPathRate stochastic-depth probability of the residual branch
     * @param rng          drop-path sampler
     */
    public Bottleneck(int inplanes, int planes, int stride, double dropPathRate, RandomGenerator rng) {
        int out = planes * EXPANSION;
        conv1 = registerModule("conv1", conv(inplanes, planes, 1, 1));
        bn1 = registerModule("bn1", bn(planes));
        registerModule("act1", act1);
        conv2 = registerModule("conv2", conv(planes, planes, 3, stride));
        bn2 = registerModule("bn2", bn(planes));
        registerModule("act2", act2);
        conv3 = registerModule("conv3", conv(planes, out, 1, 1));
        bn3 = registerModule("bn3", bn(out));
        registerShortcut(inplanes, out, stride, dropPathRate, rng, "act3");
    }

    @Override
    public BatchNorm2d lastBn() {
        return bn3.dense();
    }

    @Override
    INDArray branchForward(INDArray x, ActiveMask mask) {
        INDArray h = act1.forward(bn1.forward(conv1.forward(x, mask), mask));
        h = act2.forward(bn2.forward(conv2.forward(h, mask), mask));
        return bn3.forward(conv3.forward(h, mask), mask);
    }

    @Override
    INDArray branchBackward(INDArray g) {
        g = act2.backward(conv3.backward(bn3.backward(g)));
        g = act1.backward(conv2.backward(bn2.backward(g)));
        return conv1.backward(bn1.backward(g));
    }
}
