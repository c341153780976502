package io.hgkd.models.vit;

import io.hgkd.core.nn.Dropout;
import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.LayerNorm;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.nn.Sequential;
import io.hgkd.core.nn.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * timm's {@code VisionTransformer} (and MAE's {@code models_vit.VisionTransformer}) with a hand-written backward.
 *
 * <p>State-dict keys and shapes are exactly timm's/MAE's: {@code cls_token [1,1,D]}, {@code pos_embed [1,P+N,D]},
 * {@code patch_embed.proj.*}, {@code blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*}, then
 * {@code norm.*} (or {@code fc_norm.*} with average pooling, as timm and MAE fine-tuning) and {@code head.*} when
 * {@code numClasses > 0}. ViT-B without head has 150 tensors. A fixed sin-cos {@code pos_embed} is a parameter with
 * {@code requiresGrad = false} (MAE's {@code requires_grad=False}): saved and loaded, never updated.
 *
 * <p>Token order: index 0 is the class token (when present), then patch tokens row-major over the patch grid, token
 * {@code P + r * G + c} for patch row r and column c, where P is the number of prefix tokens.
 *
 * <p>Three forward entry points, each with its backward:
 * <ul>
 *   <li>{@link #forwardTokens} / {@link #backwardTokens}: all tokens after the final {@code norm}, (B, P+N, D), what
 *       the H-GKD teacher uses (drop index 0 for the patch grid). With {@code globalPool = avg} timm has no
 *       {@code norm} (it applies {@code fc_norm} after pooling), so these are the last block's output.</li>
 *   <li>{@link #forwardFeatures} / {@link #backwardFeatures}: the same tokens plus copies of chosen blocks'
 *       outputs.</li>
 *   <li>{@link #forward} / {@link #backward}: logits (B, numClasses), or the pooled features (B, D) when
 *       {@code numClasses = 0}; with {@code globalPool = none}, per-token outputs (B, P+N, ·).</li>
 * </ul>
 *
 * <p>Gradient mode: by default every forward keeps, per module, what backward needs (like PyTorch's autograd). A
 * frozen teacher calls {@link #freeze()} (or {@link #setGradEnabled}(false)): forwards then run through one set of
 * buffers shared by all blocks, keep nothing per block (attention scores for one sample at a time), and backward
 * is unavailable. Outputs of either mode may be buffers that the next forward overwrites: {@code dup()} to keep.
 */
public class VisionTransformer extends Module {
    private enum Last {
        NONE("no forward pass with gradients"), TOKENS("forwardTokens"), FEATURES("forwardFeatures"),
        LOGITS("forward");

        final String method;

        Last(String method) {
            this.method = method;
        }
    }

    private final VitConfig config;
    private final int prefix;
    private final Parameter clsToken;
    private final Parameter posEmbed;
    private final PatchEmbed patchEmbed;
    private final Dropout posDrop;
    private final Sequential blocks;
    private final List<Block> blockList = new ArrayList<>();
    private final LayerNorm norm;
    private final LayerNorm fcNorm;
    private final Dropout headDrop;
    private final Linear head;

    private boolean gradEnabled = true;
    private final Scratch scratch = new Scratch();
    private Last last = Last.NONE;
    private int[] lastIndices = new int[0];
    private long batch;
    private INDArray tokens;
    private INDArray pooledGrad;

    /** Builds the model and initialises it as {@code config.init()} says, from {@code config.seed()}. */
    public VisionTransformer(VitConfig config) {
        this.config = config;
        this.prefix = config.numPrefixTokens();
        int d = config.embedDim();
        RandomGenerator dropRng = new MersenneTwister(config.seed() ^ 0x5DEECE66DL);
        this.patchEmbed = registerModule("patch_embed",
                new PatchEmbed(config.imgSize(), config.patchSize(), config.inChans(), d));
        this.clsToken = config.classToken()
                ? registerParameter("cls_token", Nd4j.zeros(DataType.FLOAT, 1, 1, d), true) : null;
        this.posEmbed = registerParameter("pos_embed",
                Nd4j.zeros(DataType.FLOAT, 1, prefix + config.numPatches(), d), true);
        posEmbed.setRequiresGrad(config.posEmbed() == VitConfig.PosEmbedType.LEARNED);
        this.posDrop = registerModule("pos_drop", new Dropout(config.dropRate(), dropRng));
        this.blocks = registerModule("blocks", new Sequential());
        for (int i = 0; i < config.depth(); i++) {
            // stochastic depth rises linearly from 0 (timm: torch.linspace(0, drop_path_rate, depth))
            double dpr = config.depth() == 1 ? 0.0 : config.dropPathRate() * i / (config.depth() - 1);
            Block b = new Block(d, config.numHeads(), config.mlpHiddenDim(), config.qkvBias(), config.dropRate(),
                    config.attnDropRate(), dpr, config.lnEps(), dropRng);
            blocks.add(b);
            blockList.add(b);
        }
        this.norm = config.useFcNorm() ? null : registerModule("norm", new LayerNorm(d, config.lnEps(), true));
        this.fcNorm = config.useFcNorm() ? registerModule("fc_norm", new LayerNorm(d, config.lnEps(), true)) : null;
        this.headDrop = registerModule("head_drop", new Dropout(config.dropRate(), dropRng));
        this.head = config.numClasses() > 0 ? registerModule("head", new Linear(d, config.numClasses())) : null;
        initWeights(new MersenneTwister(config.seed()));
    }

    private void initWeights(RandomGenerator rng) {
        int d = config.embedDim();
        INDArray sincos = PosEmbed.sincos2d(d, config.gridSize(), config.classToken())
                .reshape(1, prefix + config.numPatches(), d);
        if (config.init() == VitConfig.InitMode.MAE) {
            // models_mae.initialize_weights: sin-cos table (trainable only if LEARNED), xavier patch embed,
            // cls normal(0.02), then _init_weights on every Linear / LayerNorm
            posEmbed.data().assign(sincos);
            VitInit.maePatchEmbed(patchEmbed.proj(), rng);
            if (clsToken != null) {
                Init.normal(clsToken.data(), 0, 0.02, rng);
            }
            VitInit.maeLinearAndNorm(this, rng);
        } else {
            // timm init_weights(''): trunc_normal(.02) learned pos_embed, cls normal(1e-6), init_weights_vit_timm
            if (config.posEmbed() == VitConfig.PosEmbedType.LEARNED) {
                Init.truncNormal(posEmbed.data(), 0.02, rng);
            } else {
                posEmbed.data().assign(sincos);
            }
            if (clsToken != null) {
                Init.normal(clsToken.data(), 0, 1e-6, rng);
            }
            VitInit.pytorchDefault(patchEmbed.proj(), rng);
            VitInit.timmLinearAndNorm(this, rng);
        }
    }

    public VitConfig config() {
        return config;
    }

    /** {@code cls_token}, or null without a class token. */
    public Parameter clsToken() {
        return clsToken;
    }

    /** {@code pos_embed}; frozen ({@code requiresGrad() == false}) for a sin-cos table. */
    public Parameter posEmbed() {
        return posEmbed;
    }

    public PatchEmbed patchEmbed() {
        return patchEmbed;
    }

    /** The blocks {@code blocks.0 .. blocks.(depth-1)}. */
    public List<Block> blocks() {
        return java.util.Collections.unmodifiableList(blockList);
    }

    /** The final {@code norm}, or null with average pooling (then {@link #fcNorm()} exists). */
    public LayerNorm norm() {
        return norm;
    }

    /** {@code fc_norm} (average pooling only), else null. */
    public LayerNorm fcNorm() {
        return fcNorm;
    }

    /** {@code head}, or null when {@code numClasses = 0}. */
    public Linear head() {
        return head;
    }

    /** Number of tokens before the patch tokens (1 with a class token). */
    public int numPrefixTokens() {
        return prefix;
    }

    /**
     * Enables (default) or disables gradient bookkeeping. Disabled, forwards run through one set of scratch buffers
     * shared by all blocks, keep nothing per block, and every backward throws: the frozen teacher's mode (it must be
     * in {@link #eval()} when it has drop rates). Re-enabling releases the scratch buffers.
     */
    public VisionTransformer setGradEnabled(boolean enabled) {
        if (enabled && !gradEnabled) {
            scratch.clear();
        }
        this.gradEnabled = enabled;
        last = Last.NONE;
        return this;
    }

    public boolean isGradEnabled() {
        return gradEnabled;
    }

    /**
     * The frozen-teacher setup in one call: evaluation mode, every parameter {@code requiresGrad = false}, gradient
     * bookkeeping off.
     */
    public VisionTransformer freeze() {
        eval();
        parameters().forEach(p -> p.setRequiresGrad(false));
        return setGradEnabled(false);
    }

    // ------------------------------------------------------------------------------------------------ forward

    /**
     * All tokens after the final norm.
     *
     * @param x (B, inChans, imgSize, imgSize)
     * @return (B, P + N, D), token order as in the class comment
     */
    public INDArray forwardTokens(INDArray x) {
        if (!gradEnabled) {
            return forwardNoGrad(x, new int[0], null);
        }
        INDArray out = runTokens(x, new int[0], null);
        last = Last.TOKENS;
        return out;
    }

    /**
     * The final tokens plus copies of the outputs of chosen blocks (before any final norm).
     *
     * @param blockIndices block indices in {@code [0, depth)}, any order, no duplicates
     */
    public VitFeatures forwardFeatures(INDArray x, int... blockIndices) {
        int[] idx = checkIndices(blockIndices);
        List<INDArray> copies = new ArrayList<>();
        INDArray out;
        if (!gradEnabled) {
            out = forwardNoGrad(x, idx, copies);
        } else {
            out = runTokens(x, idx, copies);
            last = Last.FEATURES;
            lastIndices = idx;
        }
        return new VitFeatures(out, idx, copies);
    }

    /**
     * Logits {@code (B, numClasses)}; with {@code numClasses = 0} the pooled features {@code (B, D)} (class token,
     * or the mean of the patch tokens followed by {@code fc_norm}); with {@code globalPool = none} no pooling,
     * {@code (B, P + N, numClasses or D)}.
     */
    @Override
    public INDArray forward(INDArray x) {
        if (!gradEnabled) {
            return headNoGrad(forwardNoGrad(x, new int[0], null));
        }
        INDArray t = runTokens(x, new int[0], null);
        INDArray y = pool(t);
        if (fcNorm != null) {
            y = fcNorm.forward(y);
        }
        y = headDrop.forward(y);
        if (head != null) {
            y = head.forward(y);
        }
        last = Last.LOGITS;
        return y;
    }

    private int[] checkIndices(int[] blockIndices) {
        int[] idx = blockIndices.clone();
        boolean[] seen = new boolean[config.depth()];
        for (int i : idx) {
            if (i < 0 || i >= config.depth()) {
                throw new IllegalArgumentException("block index " + i + " out of range [0, " + config.depth() + ")");
            }
            if (seen[i]) {
                throw new IllegalArgumentException("block index " + i + " requested twice in "
                        + Arrays.toString(blockIndices));
            }
            seen[i] = true;
        }
        return idx;
    }

    /** Writes class token + patch tokens + position embedding into {@code dst} (B, P+N, D). */
    private void embed(INDArray patches, INDArray dst) {
        long b = patches.size(0);
        long t = dst.size(1);
        long d = dst.size(2);
        if (prefix > 0) {
            dst.get(NDArrayIndex.all(), NDArrayIndex.interval(0, prefix), NDArrayIndex.all())
                    .assign(clsToken.data().castTo(dst.dataType()).broadcast(b, 1, d));
        }
        dst.get(NDArrayIndex.all(), NDArrayIndex.interval(prefix, t), NDArrayIndex.all()).assign(patches);
        dst.reshape('c', b, t * d).addiRowVector(posEmbed.data().castTo(dst.dataType()).reshape(t * d));
    }

    private INDArray runTokens(INDArray x, int[] idx, List<INDArray> copies) {
        INDArray patches = patchEmbed.forward(x);
        batch = patches.size(0);
        tokens = Tensors.reuse(tokens, patches.dataType(), batch, prefix + patches.size(1), config.embedDim());
        embed(patches, tokens);
        INDArray h = posDrop.forward(tokens);
        INDArray[] outs = new INDArray[config.depth()];
        for (int i = 0; i < blockList.size(); i++) {
            h = blockList.get(i).forward(h);
            outs[i] = h;
        }
        if (copies != null) {
            for (int i : idx) {
                copies.add(outs[i].dup());
            }
        }
        return norm != null ? norm.forward(h) : h;
    }

    private INDArray pool(INDArray t) {
        return switch (config.globalPool()) {
            case TOKEN -> t.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).dup('c');
            case AVG -> t.get(NDArrayIndex.all(), NDArrayIndex.interval(prefix, t.size(1)), NDArrayIndex.all())
                    .mean(1);
            case NONE -> t;
        };
    }

    private INDArray forwardNoGrad(INDArray x, int[] idx, List<INDArray> copies) {
        if (isTraining() && (config.dropRate() > 0 || config.attnDropRate() > 0 || config.dropPathRate() > 0)) {
            throw new IllegalStateException("a forward without gradients skips dropout and drop path: call eval()"
                    + " (or setGradEnabled(true)) for a training-mode pass with drop rates > 0");
        }
        last = Last.NONE;
        INDArray patches = patchEmbed.forward(x);
        DataType type = patches.dataType();
        long b = patches.size(0);
        long t = prefix + patches.size(1);
        long d = config.embedDim();
        INDArray res = scratch.get("residual", type, b * t, d);
        embed(patches, res.reshape('c', b, t, d));
        boolean[] want = new boolean[config.depth()];
        for (int i : idx) {
            want[i] = true;
        }
        INDArray[] outs = new INDArray[config.depth()];
        for (int i = 0; i < blockList.size(); i++) {
            blockList.get(i).forwardNoGrad(res, b, t, scratch);
            if (want[i]) {
                outs[i] = res.dup('c').reshape('c', b, t, d);
            }
        }
        if (copies != null) {
            for (int i : idx) {
                copies.add(outs[i]);
            }
        }
        if (norm == null) {
            return res.reshape('c', b, t, d);
        }
        INDArray out = scratch.get("tokens", type, b * t, d);
        Scratch.layerNorm(res, norm, config.lnEps(), out);
        return out.reshape('c', b, t, d);
    }

    private INDArray headNoGrad(INDArray t) {
        INDArray y = pool(t);
        if (config.globalPool() == VitConfig.GlobalPool.NONE) {
            y = y.dup('c');
        }
        long[] shape = y.shape();
        long d = config.embedDim();
        INDArray y2 = y.reshape('c', y.length() / d, d);
        if (fcNorm != null) {
            INDArray normed = Nd4j.create(y.dataType(), y2.shape());
            Scratch.layerNorm(y2, fcNorm, config.lnEps(), normed);
            y2 = normed;
        }
        if (head == null) {
            return y2.reshape('c', shape);
        }
        INDArray logits = Nd4j.create(y.dataType(), y2.size(0), config.numClasses());
        Scratch.linear(y2, head, logits);
        shape[shape.length - 1] = config.numClasses();
        return logits.reshape('c', shape);
    }

    // ----------------------------------------------------------------------------------------------- backward

    private void requireLast(Last expected, String method) {
        if (!gradEnabled) {
            throw new IllegalStateException(method + ": gradients are disabled (setGradEnabled(false) / freeze())");
        }
        if (last != expected) {
            throw new IllegalStateException(method + " must follow " + expected.method + ", but the last pass was "
                    + last.method + " (one backward per forward)");
        }
    }

    /**
     * Backward of {@link #forward}: accumulates all parameter gradients and returns the image gradient.
     *
     * @param gradOutput gradient of the loss with respect to the last {@code forward} output
     */
    @Override
    public INDArray backward(INDArray gradOutput) {
        requireLast(Last.LOGITS, "backward");
        INDArray g = gradOutput;
        if (head != null) {
            g = head.backward(g);
        }
        g = headDrop.backward(g);
        if (fcNorm != null) {
            g = fcNorm.backward(g);
        }
        return backwardFrom(unpool(g), new INDArray[config.depth()]);
    }

    /** Backward of {@link #forwardTokens}, from the gradient with respect to its (B, P+N, D) output. */
    public INDArray backwardTokens(INDArray gradTokens) {
        requireLast(Last.TOKENS, "backwardTokens");
        return backwardFrom(gradTokens, new INDArray[config.depth()]);
    }

    /**
     * Backward of {@link #forwardFeatures}.
     *
     * @param gradTokens gradient with respect to the final tokens, or null if they did not enter the loss
     * @param gradBlocks gradients with respect to the requested block outputs, in the order of the request (null
     *                   entries, or a null list, for outputs that did not enter the loss)
     */
    public INDArray backwardFeatures(INDArray gradTokens, List<INDArray> gradBlocks) {
        requireLast(Last.FEATURES, "backwardFeatures");
        INDArray[] inject = new INDArray[config.depth()];
        if (gradBlocks != null) {
            if (gradBlocks.size() != lastIndices.length) {
                throw new IllegalArgumentException(gradBlocks.size() + " block gradients for "
                        + lastIndices.length + " requested blocks " + Arrays.toString(lastIndices));
            }
            for (int k = 0; k < lastIndices.length; k++) {
                inject[lastIndices[k]] = gradBlocks.get(k);
            }
        }
        INDArray g = gradTokens != null ? gradTokens : Nd4j.zeros(tokens.dataType(), tokens.shape());
        return backwardFrom(g, inject);
    }

    private INDArray unpool(INDArray g) {
        long t = tokens.size(1);
        long d = config.embedDim();
        return switch (config.globalPool()) {
            case TOKEN -> {
                pooledGrad = Tensors.reuse(pooledGrad, g.dataType(), batch, t, d);
                pooledGrad.assign(0);
                pooledGrad.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).assign(g);
                yield pooledGrad;
            }
            case AVG -> {
                pooledGrad = Tensors.reuse(pooledGrad, g.dataType(), batch, t, d);
                pooledGrad.assign(0);
                long n = t - prefix;
                pooledGrad.get(NDArrayIndex.all(), NDArrayIndex.interval(prefix, t), NDArrayIndex.all())
                        .assign(g.reshape(batch, 1, d).broadcast(batch, n, d).div(n));
                yield pooledGrad;
            }
            case NONE -> g;
        };
    }

    private INDArray backwardFrom(INDArray gradTokens, INDArray[] inject) {
        if (!Arrays.equals(gradTokens.shape(), tokens.shape())) {
            throw new IllegalArgumentException("token gradient shape " + Tensors.shape(gradTokens) + " does not match"
                    + " the tokens " + Tensors.shape(tokens));
        }
        INDArray g = norm != null ? norm.backward(gradTokens) : gradTokens;
        for (int i = blockList.size() - 1; i >= 0; i--) {
            if (inject[i] != null) {
                g = g.add(inject[i]);
            }
            g = blockList.get(i).backward(g);
        }
        g = posDrop.backward(g);
        long t = tokens.size(1);
        long d = config.embedDim();
        if (posEmbed.requiresGrad()) {
            posEmbed.accumulate(g.reshape('c', batch, t * d).sum(0).reshape(1, t, d));
        }
        if (clsToken != null && clsToken.requiresGrad()) {
            clsToken.accumulate(g.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 1), NDArrayIndex.all())
                    .sum(0).reshape(1, 1, d));
        }
        INDArray gPatches = g.get(NDArrayIndex.all(), NDArrayIndex.interval(prefix, t), NDArrayIndex.all()).dup('c');
        last = Last.NONE;
        return patchEmbed.backward(gPatches);
    }
}
