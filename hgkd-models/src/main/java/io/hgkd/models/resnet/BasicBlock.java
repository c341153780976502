package io.hgkd.models.resnet;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.BatchNorm2d.Act;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.sparse.SparseBatchNorm2d;
import io.hgkd.core.sparse.SparseConv2d;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm/torchvision {@code BasicBlock} (ResNet-18/34, expansion 1): conv1 3x3 (stride) - bn1 - ReLU - conv2 3x3 - bn2,
 * then drop path, the shortcut add and ReLU. The ReLUs (timm's {@code act1, act2}, stateless) run fused into the
 * preceding BN.
 */
public final class BasicBlock extends ResidualBlock {
    private final SparseConv2d conv1;
    private final SparseBatchNorm2d bn1;
    private final SparseConv2d conv2;
    private final SparseBatchNorm2d bn2;

    /**
     * @param inplanes     input channels
     * @param planes       output channels (expansion 1)
     * @param stride       stride of conv1 and of the shortcut
     * @param dropPathRate stochastic-depth probability of the residual branch
     * @param rng          drop-path sampler
     */
    public BasicBlock(int inplanes, int planes, int stride, double dropPathRate, RandomGenerator rng) {
        conv1 = registerModule("conv1", conv(inplanes, planes, 3, stride));
        bn1 = registerModule("bn1", bn(planes));
        conv2 = registerModule("conv2", conv(planes, planes, 3, 1));
        bn2 = registerModule("bn2", bn(planes));
        registerShortcut(inplanes, planes, stride, dropPathRate, rng, "act2");
    }

    @Override
    public BatchNorm2d lastBn() {
        return bn2.dense();
    }

    @Override
    SparseBatchNorm2d lastSparseBn() {
        return bn2;
    }

    @Override
    INDArray branchForward(INDArray x, ActiveMask mask, INDArray residual) {
        INDArray h = convBn(conv1, bn1, x, mask, null, Act.RELU);
        return convBn(conv2, bn2, h, mask, residual, residual == null ? Act.NONE : Act.RELU);
    }

    @Override
    INDArray branchBackward(INDArray g) {
        g = convBnBackward(conv2, bn2, g);
        return convBnBackward(conv1, bn1, g);
    }
}
