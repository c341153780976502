package io.hgkd.models.resnet;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.DropPath;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.ReLU;
import io.hgkd.core.nn.Tensors;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.sparse.SparseBatchNorm2d;
import io.hgkd.core.sparse.SparseConv2d;
import io.hgkd.core.sparse.SparseModule;
import io.hgkd.core.sparse.SparseSequential;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A timm/torchvision residual block: {@code act(drop_path(branch(x)) + shortcut(x))}, where the shortcut is the
 * identity or {@code downsample} = 1x1 conv with the block's stride ({@code downsample.0}) followed by BN
 * ({@code downsample.1}). All convs and BNs are sparse twins, so a null mask runs the block dense and a mask runs it
 * with SparK's semantics (outputs at inactive positions stay exactly 0) on the same weights.
 */
public abstract sealed class ResidualBlock extends Module implements SparseModule permits BasicBlock, Bottleneck {
    private SparseSequential downsample;
    private DropPath dropPath;
    private final ReLU actOut = new ReLU();
    private INDArray sum;
    private INDArray gradInput;

    /** Builds the sparse conv (no bias, as every ResNet conv) that {@link #registerModule} will name. */
    static SparseConv2d conv(int in, int out, int kernel, int stride) {
        return new SparseConv2d(new Conv2d(in, out, kernel, stride, kernel / 2, false));
    }

    /** A sparse BN with PyTorch's defaults (weight 1, bias 0, eps 1e-5, momentum 0.1). */
    static SparseBatchNorm2d bn(int channels) {
        return new SparseBatchNorm2d(new BatchNorm2d(channels));
    }

    /**
     * Registers the shortcut, drop path and the final ReLU (timm's {@code act2} or {@code act3}) after the branch
     * modules, so the state dict order is torchvision's ({@code conv1, bn1, ..., downsample.0, downsample.1}).
     */
    final void registerShortcut(int inplanes, int outplanes, int stride, double dropPathRate, RandomGenerator rng,
                                String outActName) {
        if (stride != 1 || inplanes != outplanes) {
            downsample = registerModule("downsample",
                    new SparseSequential(conv(inplanes, outplanes, 1, stride), bn(outplanes)));
        }
        dropPath = registerModule("drop_path", new DropPath(dropPathRate, rng));
        registerModule(outActName, actOut);
    }

    /** Whether the block has a {@code downsample} shortcut. */
    public final boolean hasDownsample() {
        return downsample != null;
    }

    /** The drop-path probability of this block. */
    public final double dropPathRate() {
        return dropPath.p();
    }

    /** The last BN of the residual branch ({@code bn2} or {@code bn3}), which timm zero-initialises. */
    public abstract BatchNorm2d lastBn();

    /** The residual branch, ending with its last BN (before drop path). */
    abstract INDArray branchForward(INDArray x, ActiveMask mask);

    /** Backward of {@link #branchForward}; returns the gradient with respect to the block input. */
    abstract INDArray branchBackward(INDArray g);

    @Override
    public final INDArray forward(INDArray x) {
        return forward(x, null);
    }

    @Override
    public final INDArray forward(INDArray x, ActiveMask mask) {
        INDArray h = dropPath.forward(branchForward(x, mask));
        INDArray shortcut = downsample == null ? x : downsample.forward(x, mask);
        sum = Tensors.reuse(sum, h.dataType(), h.shape());
        sum.assign(h).addi(shortcut);
        return actOut.forward(sum);
    }

    @Override
    public final INDArray backward(INDArray gradOutput) {
        INDArray g = actOut.backward(gradOutput);
        INDArray gBranch = branchBackward(dropPath.backward(g));
        INDArray gShortcut = downsample == null ? g : downsample.backward(g);
        gradInput = Tensors.reuse(gradInput, gBranch.dataType(), gBranch.shape());
        return gradInput.assign(gBranch).addi(gShortcut);
    }
}
