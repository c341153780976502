package io.hgkd.models.vit;

import java.util.List;
import java.util.Locale;

/**
 * Immutable configuration of a {@link VisionTransformer}, with the fields of timm's {@code VisionTransformer} and
 * MAE's {@code models_vit.py}. Validated when built: every error names the offending field.
 *
 * <p>The named variants ({@link #named(String)}) use timm's defaults for that name: a 1000-class head, class-token
 * pooling, a learned position embedding and timm's initialisation. An MAE teacher is
 * {@code VitConfig.named("vit_base_patch16_224").withNumClasses(0)}; its checkpoint then loads under the same 150
 * keys. Override anything with the {@code with...} copies, e.g. {@code .withImgSize(32).withPatchSize(4)}. Each copy
 * is validated, so order dependent changes accordingly (e.g. {@code withGlobalPool(NONE)} before
 * {@code withClassToken(false)}).
 *
 * @param imgSize      input height and width in pixels (square images); a multiple of {@code patchSize}
 * @param patchSize    patch size P: the patch embedding is a P x P convolution with stride P
 * @param inChans      input channels
 * @param embedDim     token width D; a multiple of {@code numHeads} (and of 4 for a sin-cos position embedding)
 * @param depth        number of transformer blocks
 * @param numHeads     attention heads per block
 * @param mlpRatio     MLP hidden width = {@code (int) (embedDim * mlpRatio)} (timm's rule), 4 for every named variant
 * @param qkvBias      whether the qkv projection has a bias (true in timm and MAE)
 * @param numClasses   classifier outputs; 0 means no {@code head} (MAE pretraining and H-GKD teacher)
 * @param globalPool   how {@link VisionTransformer#forward} pools the tokens
 * @param classToken   whether a {@code cls_token} is prepended
 * @param posEmbed     fixed 2-D sin-cos table (MAE, {@code requires_grad=False}) or a learned one (timm)
 * @param dropRate     dropout after the position embedding, after the attention and MLP projections and before the
 *                     head (timm's {@code drop_rate}/{@code proj_drop_rate}/{@code pos_drop_rate})
 * @param attnDropRate dropout on the attention probabilities (timm's {@code attn_drop_rate})
 * @param dropPathRate stochastic-depth rate of the last block; block i gets {@code dropPathRate * i / (depth - 1)}
 * @param lnEps        LayerNorm eps (1e-6 in timm and MAE)
 * @param init         weight initialisation scheme
 * @param seed         seed of the initialisation and of the dropout/drop-path draws
 */
public record VitConfig(int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads,
                        double mlpRatio, boolean qkvBias, int numClasses, GlobalPool globalPool, boolean classToken,
                        PosEmbedType posEmbed, double dropRate, double attnDropRate, double dropPathRate,
                        double lnEps, InitMode init, long seed) {

    /** Token pooling before the head, as timm's {@code global_pool}. */
    public enum GlobalPool {
        /** The class token ({@code 'token'}); needs {@code classToken}. */
        TOKEN("token"),
        /** Mean over the patch tokens ({@code 'avg'}); timm and MAE then use {@code fc_norm}, not {@code norm}. */
        AVG("avg"),
        /** No pooling ({@code ''}): the head, if any, is applied to every token. */
        NONE("none");

        private final String timmName;

        GlobalPool(String timmName) {
            this.timmName = timmName;
        }

        /** The name used in configs: {@code token}, {@code avg} or {@code none}. */
        public String timmName() {
            return timmName;
        }

        /** Parses {@code token}, {@code avg}, {@code none} (or timm's empty string for none). */
        public static GlobalPool parse(String s) {
            String v = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
            for (GlobalPool p : values()) {
                if (p.timmName.equals(v)) {
                    return p;
                }
            }
            if (v.isEmpty()) {
                return NONE;
            }
            throw new IllegalArgumentException("globalPool must be one of token, avg, none; got '" + s + "'");
        }
    }

    /** Position embedding kind. */
    public enum PosEmbedType {
        /** MAE's fixed 2-D sin-cos table ({@link PosEmbed#sincos2d}); stored in the state dict, never trained. */
        SINCOS,
        /** A trainable table, as timm's {@code pos_embed}. */
        LEARNED
    }

    /** Weight initialisation scheme. */
    public enum InitMode {
        /**
         * MAE's {@code initialize_weights}: sin-cos position embedding, xavier-uniform patch-embedding weight (viewed
         * 2-D) and Linear weights, normal(0.02) class token, zero Linear biases, LayerNorm 1/0.
         */
        MAE,
        /**
         * timm's {@code init_weights} (mode ''): trunc-normal(0.02) Linear weights with zero biases, trunc-normal(0.02)
         * learned position embedding, normal(1e-6) class token; the patch embedding keeps PyTorch's default.
         */
        TIMM
    }

    /** The timm names of the named variants, smallest first. */
    public static final List<String> VARIANTS = List.of("vit_tiny_patch16_224", "vit_small_patch16_224",
            "vit_base_patch16_224", "vit_large_patch16_224", "vit_huge_patch14_224");

    public VitConfig {
        requirePositive("imgSize", imgSize);
        requirePositive("patchSize", patchSize);
        requirePositive("inChans", inChans);
        requirePositive("embedDim", embedDim);
        requirePositive("depth", depth);
        requirePositive("numHeads", numHeads);
        if (imgSize % patchSize != 0) {
            throw new IllegalArgumentException("imgSize " + imgSize + " is not divisible by patchSize " + patchSize);
        }
        if (embedDim % numHeads != 0) {
            throw new IllegalArgumentException("embedDim " + embedDim + " is not divisible by numHeads " + numHeads);
        }
        if (!(mlpRatio > 0) || Double.isInfinite(mlpRatio) || (int) (embedDim * mlpRatio) < 1) {
            throw new IllegalArgumentException("mlpRatio must be positive and give an MLP width >= 1, got " + mlpRatio);
        }
        if (numClasses < 0) {
            throw new IllegalArgumentException("numClasses must be >= 0 (0 = no head), got " + numClasses);
        }
        if (globalPool == null) {
            throw new IllegalArgumentException("globalPool must not be null");
        }
        if (globalPool == GlobalPool.TOKEN && !classToken) {
            throw new IllegalArgumentException("globalPool 'token' needs classToken = true");
        }
        if (posEmbed == null) {
            throw new IllegalArgumentException("posEmbed must not be null");
        }
        if (posEmbed == PosEmbedType.SINCOS && embedDim % 4 != 0) {
            throw new IllegalArgumentException("posEmbed SINCOS needs embedDim divisible by 4, got " + embedDim);
        }
        requireRate("dropRate", dropRate);
        requireRate("attnDropRate", attnDropRate);
        requireRate("dropPathRate", dropPathRate);
        if (!(lnEps > 0) || Double.isInfinite(lnEps)) {
            throw new IllegalArgumentException("lnEps must be positive and finite, got " + lnEps);
        }
        if (init == null) {
            throw new IllegalArgumentException("init must not be null");
        }
    }

    private static void requirePositive(String field, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(field + " must be positive, got " + v);
        }
    }

    private static void requireRate(String field, double v) {
        if (!(v >= 0 && v < 1)) {
            throw new IllegalArgumentException(field + " must be in [0, 1), got " + v);
        }
    }

    /** A timm-style config at 224 px: 1000 classes, token pooling, learned position embedding, timm init. */
    private static VitConfig timm(int patch, int dim, int depth, int heads) {
        return new VitConfig(224, patch, 3, dim, depth, heads, 4.0, true, 1000, GlobalPool.TOKEN, true,
                PosEmbedType.LEARNED, 0, 0, 0, 1e-6, InitMode.TIMM, 0);
    }

    /** timm {@code vit_tiny_patch16_224}: D 192, depth 12, 3 heads. */
    public static VitConfig vitTinyPatch16() {
        return timm(16, 192, 12, 3);
    }

    /** timm {@code vit_small_patch16_224}: D 384, depth 12, 6 heads. */
    public static VitConfig vitSmallPatch16() {
        return timm(16, 384, 12, 6);
    }

    /** timm {@code vit_base_patch16_224}: D 768, depth 12, 12 heads (MAE ViT-B). */
    public static VitConfig vitBasePatch16() {
        return timm(16, 768, 12, 12);
    }

    /** timm {@code vit_large_patch16_224}: D 1024, depth 24, 16 heads (MAE ViT-L). */
    public static VitConfig vitLargePatch16() {
        return timm(16, 1024, 24, 16);
    }

    /** timm {@code vit_huge_patch14_224}: patch 14, D 1280, depth 32, 16 heads (MAE ViT-H). */
    public static VitConfig vitHugePatch14() {
        return timm(14, 1280, 32, 16);
    }

    /**
     * A variant by its timm name (one of {@link #VARIANTS}).
     *
     * @throws IllegalArgumentException naming the known variants when {@code name} is not one of them
     */
    public static VitConfig named(String name) {
        return switch (name) {
            case "vit_tiny_patch16_224" -> vitTinyPatch16();
            case "vit_small_patch16_224" -> vitSmallPatch16();
            case "vit_base_patch16_224" -> vitBasePatch16();
            case "vit_large_patch16_224" -> vitLargePatch16();
            case "vit_huge_patch14_224" -> vitHugePatch14();
            default -> throw new IllegalArgumentException("unknown ViT variant '" + name + "'; known: " + VARIANTS);
        };
    }

    /** Patches per side, {@code imgSize / patchSize}. */
    public int gridSize() {
        return imgSize / patchSize;
    }

    /** Patch tokens N = gridSize². */
    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Tokens before the patches: 1 with a class token, else 0. */
    public int numPrefixTokens() {
        return classToken ? 1 : 0;
    }

    /** Per-head width D / numHeads. */
    public int headDim() {
        return embedDim / numHeads;
    }

    /** MLP hidden width, {@code (int) (embedDim * mlpRatio)}. */
    public int mlpHiddenDim() {
        return (int) (embedDim * mlpRatio);
    }

    /** Whether the model has {@code fc_norm} (after average pooling) instead of the final {@code norm}, as timm. */
    public boolean useFcNorm() {
        return globalPool == GlobalPool.AVG;
    }

    public VitConfig withImgSize(int v) {
        return new VitConfig(v, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    /** Image and patch size together (each alone must keep imgSize divisible by patchSize). */
    public VitConfig withImgSize(int imgSize, int patchSize) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withPatchSize(int v) {
        return new VitConfig(imgSize, v, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withInChans(int v) {
        return new VitConfig(imgSize, patchSize, v, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    /** Width and heads change together (embedDim must stay divisible by numHeads). */
    public VitConfig withEmbedDim(int dim, int heads) {
        return new VitConfig(imgSize, patchSize, inChans, dim, depth, heads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withDepth(int v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, v, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withMlpRatio(double v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, v, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withQkvBias(boolean v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, v, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withNumClasses(int v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, v,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withGlobalPool(GlobalPool v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                v, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    /** {@code token}, {@code avg} or {@code none}. */
    public VitConfig withGlobalPool(String v) {
        return withGlobalPool(GlobalPool.parse(v));
    }

    public VitConfig withClassToken(boolean v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, v, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withPosEmbed(PosEmbedType v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, v, dropRate, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withDropRate(double v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, v, attnDropRate, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withAttnDropRate(double v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, v, dropPathRate, lnEps, init, seed);
    }

    public VitConfig withDropPathRate(double v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, v, lnEps, init, seed);
    }

    public VitConfig withLnEps(double v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, v, init, seed);
    }

    public VitConfig withInit(InitMode v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, v, seed);
    }

    public VitConfig withSeed(long v) {
        return new VitConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, numClasses,
                globalPool, classToken, posEmbed, dropRate, attnDropRate, dropPathRate, lnEps, init, v);
    }
}
