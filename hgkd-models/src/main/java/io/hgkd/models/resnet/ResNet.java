package io.hgkd.models.resnet;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.GlobalAvgPool2d;
import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.MaxPool2d;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.nn.Tensors;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.sparse.SparseBatchNorm2d;
import io.hgkd.core.sparse.SparseConv2d;
import io.hgkd.core.sparse.SparseMaxPool2d;
import io.hgkd.core.sparse.SparseModule;
import io.hgkd.core.sparse.SparseSequential;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * timm/torchvision ResNet built from SparK's sparse twins: the same model runs dense (mask {@code null}) and sparse
 * (with an {@link ActiveMask}, SparK's semantics) on the same weights.
 *
 * <p>Parameter and buffer names are exactly timm's and torchvision's ({@code conv1.weight}, {@code bn1.running_var},
 * {@code layer1.0.conv1.weight}, {@code layer2.0.downsample.0.weight}, {@code fc.weight}, ...), including
 * {@code num_batches_tracked}, so {@link #stateDict()} loads into {@code torchvision.models.resnet50()} and timm's
 * {@code resnet50} and vice versa. Initialisation follows timm: convs kaiming-normal (fan-out, ReLU), BN weight 1 and
 * bias 0, the last BN of each residual branch zero when {@link ResNetConfig#zeroInitLast()}, {@code fc} PyTorch's
 * default. Drop path rises linearly over the blocks, as timm's {@code drop_path_rate}.
 *
 * <p>Two stems: {@link ResNetConfig.Stem#IMAGENET} (7x7 s2 conv and 3x3 s2 max pool, stage strides 4..32) and
 * {@link ResNetConfig.Stem#SMALL} (3x3 s1 conv, no pool, stage strides 1..8) for 28-32 px images. With
 * {@code baseWidth} other than 64 every stage scales with it (stem {@code baseWidth}, stage {@code i} planes
 * {@code baseWidth * 2^i}); this is not torchvision's {@code width_per_group}, which scales the bottleneck only.
 *
 * <p>Outputs (feature lists, logits) are module-owned buffers that the next forward overwrites: {@code dup()} what
 * you keep.
 */
public class ResNet extends Module implements SparseModule {
    private final ResNetConfig config;
    private final SparseConv2d conv1;
    private final SparseBatchNorm2d bn1;
    private final SparseMaxPool2d maxpool;
    private final List<SparseSequential> stages = new ArrayList<>();
    private final GlobalAvgPool2d globalPool = new GlobalAvgPool2d();
    private final Linear fc;

    private ActiveMask lastMask;
    private final INDArray[] gradSums = new INDArray[4];
    private boolean lastWasFeatures;

    /** Builds and initialises the model described by {@code config}. */
    public ResNet(ResNetConfig config) {
        this.config = config;
        int width = config.baseWidth();
        boolean imagenet = config.stem() == ResNetConfig.Stem.IMAGENET;
        conv1 = registerModule("conv1", imagenet
                ? new SparseConv2d(new Conv2d(config.inChans(), width, 7, 2, 3, false))
                : new SparseConv2d(new Conv2d(config.inChans(), width, 3, 1, 1, false)));
        bn1 = registerModule("bn1", new SparseBatchNorm2d(new BatchNorm2d(width)));
        maxpool = imagenet ? registerModule("maxpool", new SparseMaxPool2d(new MaxPool2d(3, 2, 1))) : null;

        RandomGenerator dropRng = new MersenneTwister(config.seed() + 1);
        int total = config.depthBlocks();
        int blockIndex = 0;
        int inplanes = width;
        int[] layers = config.layers();
        for (int s = 0; s < 4; s++) {
            int planes = width << s;
            SparseSequential stage = new SparseSequential();
            for (int b = 0; b < layers[s]; b++) {
                int stride = b == 0 && s > 0 ? 2 : 1;
                // timm: dpr = linspace(0, drop_path_rate, total)[k]
                double dpr = total > 1 ? config.dropPathRate() * blockIndex / (total - 1) : 0.0;
                ResidualBlock block = config.block() == ResNetConfig.Block.BASIC
                        ? new BasicBlock(inplanes, planes, stride, dpr, dropRng)
                        : new Bottleneck(inplanes, planes, stride, dpr, dropRng);
                stage.add(block);
                inplanes = planes * config.block().expansion();
                blockIndex++;
            }
            stages.add(registerModule("layer" + (s + 1), stage));
        }
        registerModule("global_pool", globalPool);
        fc = config.numClasses() > 0 ? registerModule("fc", new Linear(inplanes, config.numClasses())) : null;
        initWeights(new MersenneTwister(config.seed()));
    }

    /** timm's {@code ResNet.init_weights(zero_init_last)}; fc keeps PyTorch's Linear default. */
    private void initWeights(RandomGenerator rng) {
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            INDArray w = e.getValue().data();
            if (e.getKey().endsWith("weight") && w.rank() == 4) {
                Init.kaimingNormalFanOut(w, rng);
            }
        }
        for (SparseSequential stage : stages) {
            for (Module m : stage.layers()) {
                BatchNorm2d last = ((ResidualBlock) m).lastBn();
                last.weight().data().assign(config.zeroInitLast() ? 0.0 : 1.0);
            }
        }
        if (fc != null) {
            Init.pytorchDefault(fc.weight().data(), rng);
            Init.pytorchDefaultBias(fc.bias().data(), fc.inFeatures(), rng);
        }
    }

    /** The configuration this model was built from. */
    public ResNetConfig config() {
        return config;
    }

    /** Output channels of {@code layer1..layer4} (e.g. 256, 512, 1024, 2048 for ResNet-50). */
    public int[] featureChannels() {
        return config.featureChannels();
    }

    /** Input size over the last feature map size: 32 (ImageNet stem) or 8 (small stem). */
    public int downsampleRatio() {
        return config.downsampleRatio();
    }

    /** Channels of {@link #forward} without {@code fc}: the last stage's width. */
    public int numFeatures() {
        return featureChannels()[3];
    }

    /** The residual blocks of stage {@code s} (0..3). */
    public List<ResidualBlock> blocks(int s) {
        List<ResidualBlock> out = new ArrayList<>();
        stages.get(s).layers().forEach(m -> out.add((ResidualBlock) m));
        return Collections.unmodifiableList(out);
    }

    private void checkInput(INDArray x, ActiveMask mask) {
        Tensors.requireRank(x, 4, "ResNet");
        if (x.size(1) != config.inChans()) {
            throw new IllegalArgumentException("ResNet expects " + config.inChans() + " input channels, got shape "
                    + Tensors.shape(x));
        }
        if (mask != null) {
            long r = downsampleRatio();
            if (x.size(2) != mask.height() * r || x.size(3) != mask.width() * r || x.size(0) != mask.batchSize()) {
                throw new IllegalArgumentException("sparse ResNet input " + Tensors.shape(x) + " does not match the "
                        + mask.batchSize() + "x" + mask.height() + "x" + mask.width() + " mask grid: the input must be"
                        + " the grid times the downsample ratio " + r);
            }
        }
    }

    /**
     * The four stage outputs ({@code layer1..layer4}, strides 4, 8, 16, 32 with the ImageNet stem; 1, 2, 4, 8 with
     * the small stem), as SparK's {@code forward(x, hierarchical=True)}.
     *
     * @param x    input (B, inChans, H, W)
     * @param mask null for a dense pass; otherwise the input is first masked ({@code x * mask}, SparK's
     *             {@code masked_bchw}), every conv, BN and pool runs sparse, and inactive positions of every output
     *             are exactly 0. H and W must then be the mask grid times {@link #downsampleRatio()}.
     * @return the four feature maps (module-owned buffers)
     */
    public List<INDArray> features(INDArray x, ActiveMask mask) {
        checkInput(x, mask);
        lastMask = mask;
        lastWasFeatures = true;
        INDArray h = mask == null ? x : mask.apply(x);
        h = ResidualBlock.convBn(conv1, bn1, h, mask, null, BatchNorm2d.Act.RELU); // timm's act1, fused
        if (maxpool != null) {
            h = maxpool.forward(h, mask);
        }
        List<INDArray> out = new ArrayList<>(4);
        for (SparseSequential stage : stages) {
            h = stage.forward(h, mask);
            out.add(h);
        }
        return out;
    }

    /**
     * Back-propagates gradients of the four stage outputs of the last {@link #features} call; entries may be null
     * for stages that do not reach the loss (but not all). Accumulates parameter gradients.
     *
     * @return the gradient with respect to the input {@code x} (zero at masked pixels in sparse mode)
     */
    public INDArray backwardFeatures(List<INDArray> grads) {
        if (grads.size() != 4) {
            throw new IllegalArgumentException("backwardFeatures expects 4 stage gradients, got " + grads.size());
        }
        int top = 3;
        while (top >= 0 && grads.get(top) == null) {
            top--;
        }
        if (top < 0) {
            throw new IllegalArgumentException("backwardFeatures got no gradient (all four are null)");
        }
        INDArray g = null;
        for (int s = top; s >= 0; s--) {
            INDArray gs = grads.get(s);
            if (gs != null && g != null) {
                gradSums[s] = Tensors.reuse(gradSums[s], g.dataType(), g.shape());
                Nd4j.exec(new AddOp(g, gs, gradSums[s]));
                g = gradSums[s];
            } else if (gs != null) {
                g = gs;
            }
            g = stages.get(s).backward(g);
        }
        if (maxpool != null) {
            g = maxpool.backward(g);
        }
        g = ResidualBlock.convBnBackward(conv1, bn1, g);
        return lastMask == null ? g : lastMask.apply(g);
    }

    /** Dense classification: logits (B, numClasses), or pooled features (B, C) when {@code numClasses} is 0. */
    @Override
    public INDArray forward(INDArray x) {
        return forward(x, null);
    }

    /**
     * {@link #forward(INDArray)} on the sparse features of {@code x} (global average over all positions, masked
     * ones being 0): for completeness; SparK pretraining uses {@link #features} only.
     */
    @Override
    public INDArray forward(INDArray x, ActiveMask mask) {
        List<INDArray> f = features(x, mask);
        lastWasFeatures = false;
        INDArray pooled = globalPool.forward(f.get(3));
        return fc == null ? pooled : fc.forward(pooled);
    }

    /** Backward of {@link #forward}: through {@code fc}, the pooling and all stages; returns the input gradient. */
    @Override
    public INDArray backward(INDArray gradOutput) {
        if (lastWasFeatures) {
            throw new IllegalStateException("the last ResNet pass was features(): use backwardFeatures()");
        }
        INDArray g = fc == null ? gradOutput : fc.backward(gradOutput);
        g = globalPool.backward(g);
        return backwardFeatures(Arrays.asList(null, null, null, g));
    }
}
