package io.hgkd.models.mae;

import io.hgkd.models.vit.VitConfig;
import java.util.List;

/**
 * Immutable configuration of a {@link MaskedAutoencoderViT}, as {@code facebookresearch/mae models_mae.py}.
 *
 * <p>The encoder fields (image and patch size, channels, width, depth, heads, MLP ratio, LayerNorm eps, init seed)
 * come from {@code encoder}, which must have a class token, a fixed sin-cos position embedding and no head, as MAE's
 * encoder. Dropout and drop path are 0 in MAE pretraining; the encoder's rates are honoured if set.
 *
 * @param encoder          the encoder ViT configuration
 * @param decoderEmbedDim  decoder width Dd (MAE: 512), divisible by {@code decoderNumHeads} and by 4
 * @param decoderDepth     decoder blocks (MAE: 8)
 * @param decoderNumHeads  decoder heads (MAE: 16)
 * @param maskRatio        fraction of patches removed, in (0, 1) (MAE: 0.75); {@code len_keep = int(L * (1 - ratio))}
 * @param normPixLoss      normalise each target patch by its mean and unbiased variance (eps 1e-6) as MAE's
 *                         {@code --norm_pix_loss}, which its released checkpoints used; default true
 */
public record MaeConfig(VitConfig encoder, int decoderEmbedDim, int decoderDepth, int decoderNumHeads,
                        double maskRatio, boolean normPixLoss) {

    /** The MAE model names of {@code models_mae.py}. */
    public static final List<String> VARIANTS = List.of("mae_vit_base_patch16", "mae_vit_large_patch16",
            "mae_vit_huge_patch14");

    public MaeConfig {
        if (encoder == null) {
            throw new IllegalArgumentException("encoder must not be null");
        }
        if (!encoder.classToken()) {
            throw new IllegalArgumentException("encoder.classToken must be true: MAE prepends a class token");
        }
        if (encoder.posEmbed() != VitConfig.PosEmbedType.SINCOS) {
            throw new IllegalArgumentException(
                    "encoder.posEmbed must be SINCOS: MAE's pos_embed is a fixed sin-cos table");
        }
        if (encoder.numClasses() != 0) {
            throw new IllegalArgumentException("encoder.numClasses must be 0: the MAE encoder has no head, got "
                    + encoder.numClasses());
        }
        if (decoderEmbedDim <= 0 || decoderDepth <= 0 || decoderNumHeads <= 0) {
            throw new IllegalArgumentException("decoderEmbedDim, decoderDepth and decoderNumHeads must be positive,"
                    + " got " + decoderEmbedDim + ", " + decoderDepth + ", " + decoderNumHeads);
        }
        if (decoderEmbedDim % decoderNumHeads != 0) {
            throw new IllegalArgumentException("decoderEmbedDim " + decoderEmbedDim + " is not divisible by"
                    + " decoderNumHeads " + decoderNumHeads);
        }
        if (decoderEmbedDim % 4 != 0) {
            throw new IllegalArgumentException("decoderEmbedDim must be divisible by 4 for the sin-cos"
                    + " decoder_pos_embed, got " + decoderEmbedDim);
        }
        if (!(maskRatio > 0 && maskRatio < 1)) {
            throw new IllegalArgumentException("maskRatio must be in (0, 1), got " + maskRatio);
        }
        int l = encoder.numPatches();
        int keep = lenKeep(l, maskRatio);
        if (keep >= l) {
            throw new IllegalArgumentException("maskRatio " + maskRatio + " masks no patch of " + l
                    + ": the loss (averaged over masked patches) would be 0/0");
        }
    }

    /** MAE's {@code len_keep = int(L * (1 - mask_ratio))}. */
    public static int lenKeep(int numPatches, double maskRatio) {
        return (int) (numPatches * (1 - maskRatio));
    }

    /** Visible patches per sample. */
    public int lenKeep() {
        return lenKeep(encoder.numPatches(), maskRatio);
    }

    /** MAE's defaults around an encoder: decoder 512 wide, 8 deep, 16 heads, mask 0.75, normalised pixel loss. */
    public static MaeConfig of(VitConfig encoder) {
        return new MaeConfig(encoder.withNumClasses(0).withPosEmbed(VitConfig.PosEmbedType.SINCOS)
                .withInit(VitConfig.InitMode.MAE), 512, 8, 16, 0.75, true);
    }

    /** {@code mae_vit_base_patch16_dec512d8b}. */
    public static MaeConfig maeVitBasePatch16() {
        return of(VitConfig.vitBasePatch16());
    }

    /** {@code mae_vit_large_patch16_dec512d8b}. */
    public static MaeConfig maeVitLargePatch16() {
        return of(VitConfig.vitLargePatch16());
    }

    /** {@code mae_vit_huge_patch14_dec512d8b}. */
    public static MaeConfig maeVitHugePatch14() {
        return of(VitConfig.vitHugePatch14());
    }

    /** A variant by MAE's name (one of {@link #VARIANTS}). */
    public static MaeConfig named(String name) {
        return switch (name) {
            case "mae_vit_base_patch16" -> maeVitBasePatch16();
            case "mae_vit_large_patch16" -> maeVitLargePatch16();
            case "mae_vit_huge_patch14" -> maeVitHugePatch14();
            default -> throw new IllegalArgumentException("unknown MAE variant '" + name + "'; known: " + VARIANTS);
        };
    }

    public MaeConfig withEncoder(VitConfig v) {
        return new MaeConfig(v, decoderEmbedDim, decoderDepth, decoderNumHeads, maskRatio, normPixLoss);
    }

    /** Decoder width, depth and heads together. */
    public MaeConfig withDecoder(int embedDim, int depth, int numHeads) {
        return new MaeConfig(encoder, embedDim, depth, numHeads, maskRatio, normPixLoss);
    }

    public MaeConfig withMaskRatio(double v) {
        return new MaeConfig(encoder, decoderEmbedDim, decoderDepth, decoderNumHeads, v, normPixLoss);
    }

    public MaeConfig withNormPixLoss(boolean v) {
        return new MaeConfig(encoder, decoderEmbedDim, decoderDepth, decoderNumHeads, maskRatio, v);
    }
}
