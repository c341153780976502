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
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.factory.Nd4j;

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
    private boolean fused;
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

    /** The sparse twin of {@link #lastBn()}. */
    abstract SparseBatchNorm2d lastSparseBn();

    /**
     * The residual branch. With a null {@code residual} it ends with its last BN (before drop path); otherwise the
     * last BN also adds {@code residual} and applies the block's final ReLU, so it returns the block output.
     */
    abstract INDArray branchForward(INDArray x, ActiveMask mask, INDArray residual);

    /**
     * Backward of {@link #branchForward}; returns the gradient with respect to the block input (with a residual,
     * {@code lastSparseBn().dense().residualGradient()} then holds the residual's gradient).
     */
    abstract INDArray branchBackward(INDArray g);

    /**
     * Conv then sparse BN, with the BN's fused residual and activation. The conv runs without its output mask: the
     * masked BN reads active positions only and returns a gradient that is 0 at inactive ones, so that mask
     * multiply (forward and backward) would change nothing.
     */
    static INDArray convBn(SparseConv2d conv, SparseBatchNorm2d bn, INDArray x, ActiveMask mask, INDArray residual,
                           BatchNorm2d.Act act) {
        return bn.forward(conv.dense().forward(x), mask, residual, act);
    }

    /** Backward of {@link #convBn}. */
    static INDArray convBnBackward(SparseConv2d conv, SparseBatchNorm2d bn, INDArray g) {
        return conv.dense().backward(bn.backward(g));
    }

    @Override
    public final INDArray forward(INDArray x) {
        return forward(x, null);
    }

    @Override
    public final INDArray forward(INDArray x, ActiveMask mask) {
        INDArray shortcut = downsample == null ? x : downsample.forward(x, mask);
        // without an active drop path, add and ReLU run fused in the last BN's output pass
        fused = !(isTraining() && dropPath.p() > 0);
        if (fused) {
            return branchForward(x, mask, shortcut);
        }
        INDArray h = dropPath.forward(branchForward(x, mask, null));
        sum = Tensors.reuse(sum, h.dataType(), h.shape());
        Nd4j.exec(new AddOp(h, shortcut, sum));
        return actOut.forward(sum);
    }

    @Override
    public final INDArray backward(INDArray gradOutput) {
        INDArray gBranch;
        INDArray g;
        if (fused) {
            gBranch = branchBackward(gradOutput);
            g = lastSparseBn().dense().residualGradient();
        } else {
            g = actOut.backward(gradOutput);
            gBranch = branchBackward(dropPath.backward(g));
        }
        INDArray gShortcut = downsample == null ? g : downsample.backward(g);
        gradInput = Tensors.reuse(gradInput, gBranch.dataType(), gBranch.shape());
        Nd4j.exec(new AddOp(gBranch, gShortcut, gradInput));
        return gradInput;
    }
}
