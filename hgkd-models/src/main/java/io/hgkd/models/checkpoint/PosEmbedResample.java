package io.hgkd.models.checkpoint;

import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Resamples an absolute position embedding {@code [1, P + G1*G1, D]} to the module's {@code [1, P + G2*G2, D]} when
 * the checkpoint was trained on another token grid (another image or patch size), as MAE's
 * {@code interpolate_pos_embed} and timm's {@code resample_abs_pos_embed} do: the {@code P} prefix tokens (the cls
 * token: {@code P = 1}) are kept, the grid part is resized.
 *
 * <p>The resampling itself is supplied by the caller, so that this package stays free of model code; the ViT code
 * provides the bicubic one ({@code io.hgkd.models.vit.PosEmbed::resample}):
 * <pre>{@code
 *   LoadPlan plan = LoadPlan.vitEncoder().withTransform(new PosEmbedResample(PosEmbed::resample));
 * }</pre>
 * Token {@code n} of the grid part sits at row {@code n / G}, column {@code n % G} (row-major, as in timm and MAE).
 *
 * <p>It applies to keys named {@code pos_embed} or ending in {@code .pos_embed} (not {@code decoder_pos_embed}) whose
 * shape differs from the target's only in the token count. Other shape differences are left to the load report.
 */
public final class PosEmbedResample implements KeyTransform {
    /** Resamples a whole table: the prefix rows kept, the {@code oldGrid} part resized to {@code newGrid} ({h, w}). */
    @FunctionalInterface
    public interface Resampler {
        INDArray resample(INDArray posEmbed, int prefixTokens, int[] oldGrid, int[] newGrid);
    }

    private final Resampler resampler;
    private final int prefixTokens;

    /** Resamples with one prefix (cls) token, as for MAE and timm ViTs with a class token. */
    public PosEmbedResample(Resampler resampler) {
        this(resampler, 1);
    }

    /**
     * @param resampler    resizes a {@code [1, P + G1*G1, D]} table to {@code [1, P + G2*G2, D]}
     * @param prefixTokens the number of leading tokens that are not on the grid (0 for models without a cls token)
     */
    public PosEmbedResample(Resampler resampler, int prefixTokens) {
        this.resampler = Objects.requireNonNull(resampler, "resampler");
        if (prefixTokens < 0) {
            throw new IllegalArgumentException("prefixTokens must be >= 0, got " + prefixTokens);
        }
        this.prefixTokens = prefixTokens;
    }

    /** True for {@code pos_embed} and {@code <module>.pos_embed}. */
    public static boolean isPosEmbedKey(String key) {
        return key.equals("pos_embed") || key.endsWith(".pos_embed");
    }

    @Override
    public INDArray apply(String key, INDArray source, long[] targetShape) {
        long[] s = source.shape();
        if (!isPosEmbedKey(key) || Arrays.equals(s, targetShape) || s.length != 3 || targetShape.length != 3
                || s[0] != 1 || targetShape[0] != 1 || s[2] != targetShape[2]) {
            return source;
        }
        int from = grid(key, s, "checkpoint");
        int to = grid(key, targetShape, "module");
        INDArray resized = resampler.resample(source.castTo(DataType.FLOAT), prefixTokens, new int[] {from, from},
                new int[] {to, to});
        if (resized == null || !Arrays.equals(resized.shape(), targetShape)) {
            throw new IllegalArgumentException(key + ": the resampler returned "
                    + (resized == null ? "null" : Arrays.toString(resized.shape())) + " for a " + from + "x" + from
                    + " -> " + to + "x" + to + " resample; expected " + Arrays.toString(targetShape));
        }
        return resized;
    }

    /** The side of the square grid of a {@code [1, P + G*G, D]} shape. */
    private int grid(String key, long[] shape, String whose) {
        long tokens = shape[1] - prefixTokens;
        long g = Math.round(Math.sqrt(Math.max(tokens, 0)));
        if (tokens <= 0 || g * g != tokens) {
            throw new IllegalArgumentException(key + ": cannot resample the position embedding: the " + whose
                    + " shape " + Arrays.toString(shape) + " has " + shape[1] + " tokens, which is not " + prefixTokens
                    + " prefix token(s) plus a square grid");
        }
        return (int) g;
    }

    @Override
    public String toString() {
        return "PosEmbedResample(prefixTokens=" + prefixTokens + ")";
    }
}
