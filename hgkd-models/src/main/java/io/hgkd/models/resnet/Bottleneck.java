package io.hgkd.models.resnet;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.BatchNorm2d.Act;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.sparse.SparseBatchNorm2d;
import io.hgkd.core.sparse.SparseConv2d;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm/torchvision {@code Bottleneck} (ResNet-50/101/152, "ResNet v1.5"): conv1 1x1 - bn1 - ReLU - conv2 3x3 with the
 * stride - bn2 - ReLU - conv3 1x1 to {@code 4 * planes} - bn3, then drop path, the shortcut add and ReLU. The ReLUs
 * (timm's {@code act1..act3}, stateless) run fused into the preceding BN.
 */
public final class Bottleneck extends ResidualBlock {
    /** Output channels per plane. */
    public static final int EXPANSION = 4;

    private final SparseConv2d conv1;
    private final SparseBatchNorm2d bn1;
    private final SparseConv2d conv2;
    private final SparseBatchNorm2d bn2;
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
        conv2 = registerModule("conv2", conv(planes, planes, 3, stride));
        bn2 = registerModule("bn2", bn(planes));
        conv3 = registerModule("conv3", conv(planes, out, 1, 1));
        bn3 = registerModule("bn3", bn(out));
        registerShortcut(inplanes, out, stride, dropPathRate, rng, "act3");
    }

    @Override
    public BatchNorm2d lastBn() {
        return bn3.dense();
    }

    @Override
    SparseBatchNorm2d lastSparseBn() {
        return bn3;
    }

    @Override
    INDArray branchForward(INDArray x, ActiveMask mask, INDArray residual) {
        INDArray h = convBn(conv1, bn1, x, mask, null, Act.RELU);
        h = convBn(conv2, bn2, h, mask, null, Act.RELU);
        return convBn(conv3, bn3, h, mask, residual, residual == null ? Act.NONE : Act.RELU);
    }

    @Override
    INDArray branchBackward(INDArray g) {
        g = convBnBackward(conv3, bn3, g);
        g = convBnBackward(conv2, bn2, g);
        return convBnBackward(conv1, bn1, g);
    }
}
