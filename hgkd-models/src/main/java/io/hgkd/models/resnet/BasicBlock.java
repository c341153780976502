package io.hgkd.models.resnet;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.ReLU;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.sparse.SparseBatchNorm2d;
import io.hgkd.core.sparse.SparseConv2d;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm/torchvision {@code BasicBlock} (ResNet-18/34, expansion 1): conv1 3x3 (stride) - bn1 - ReLU - conv2 3x3 - bn2,
 * then drop path, the shortcut add and ReLU.
 */
public final class BasicBlock extends ResidualBlock {
    private final SparseConv2d conv1;
    private final SparseBatchNorm2d bn1;
    private final ReLU act1 = new ReLU();
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
        registerModule("act1", act1);
        conv2 = registerModule("conv2", conv(planes, planes, 3, 1));
        bn2 = registerModule("bn2", bn(planes));
        registerShortcut(inplanes, planes, stride, dropPathRate, rng, "act2");
    }

    @Override
    public BatchNorm2d lastBn() {
        return bn2.dense();
    }

    @Override
    INDArray branchForward(INDArray x, ActiveMask mask) {
        INDArray h = bn1.forward(conv1.forward(x, mask), mask);
        h = act1.forward(h);
        return bn2.forward(conv2.forward(h, mask), mask);
    }

    @Override
    INDArray branchBackward(INDArray g) {
        g = conv2.backward(bn2.backward(g));
        g = act1.backward(g);
        return conv1.backward(bn1.backward(g));
    }
}
