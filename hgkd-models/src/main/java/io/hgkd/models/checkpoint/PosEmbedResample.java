package io.hgkd.models.checkpoint;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.BiFunction;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Resamples an absolute position embedding {@code [1, P + G1*G1, D]} to the module's {@code [1, P + G2*G2, D]} when
 * the checkpoint was trained on another token grid (another image or patch size), as MAE's
 * {@code interpolate_pos_embed} and timm's {@code resample_abs_pos_embed} do: the {@code P} prefix tokens (the cls
 * token: {@code P = 1}) are kept, the grid part is resized.
 *
 * <p>The resize itself is supplied by the caller, so that this package stays free of model code; the ViT code
 * provides the bicubic one. It receives the grid as an image in PyTorch's layout and returns the resized image:
 * <pre>{@code
 *   // grid [1, D, G1, G1] -> [1, D, size[0], size[1]]
 *   BiFunction<INDArray, int[], INDArray> resize = (grid, size) -> ...;
 *   LoadPlan plan = LoadPlan.vitEncoder().withTransform(new PosEmbedResample(resize));
 * }</pre>
 * Token {@code n} of the grid part sits at row {@code n / G}, column {@code n % G} (row-major, as in timm and MAE).
 *
 * <p>It applies to keys named {@code pos_embed} or ending in {@code .pos_embed} (not {@code decoder_pos_embed}) whose
 * shape differs from the target's only in the token count. Other shape differences are left to the load report.
 */
public final class PosEmbedResample implements KeyTransform {
    private final BiFunction<INDArray, int[], INDArray> resize;
    private final int prefixTokens;

    /** Resamples with one prefix (cls) token, as for MAE and timm ViTs with a class token. */
    public PosEmbedResample(BiFunction<INDArray, int[], INDArray> resize) {
        this(resize, 1);
    }

    /**
     * @param resize       resizes a {@code [1, D, G1, G1]} FLOAT grid to {@code [1, D, size[0], size[1]]}
     * @param prefixTokens the number of leading tokens that are not on the grid (0 for models without a cls token)
     */
    public PosEmbedResample(BiFunction<INDArray, int[], INDArray> resize, int prefixTokens) {
        this.resize = Objects.requireNonNull(resize, "resize");
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
        long dim = s[2];
        INDArray src = source.castTo(DataType.FLOAT);
        INDArray gridTokens = src.get(NDArrayIndex.all(), NDArrayIndex.interval(prefixTokens, s[1]), NDArrayIndex.all())
                .dup('c').reshape('c', 1, from, from, dim);
        INDArray image = gridTokens.permute(0, 3, 1, 2).dup('c');
        INDArray resized = resize.apply(image, new int[] {to, to});
        long[] want = {1, dim, to, to};
        if (resized == null || !Arrays.equals(resized.shape(), want)) {
            throw new IllegalArgumentException(key + ": the resize function returned "
                    + (resized == null ? "null" : Arrays.toString(resized.shape())) + " for a " + from + "x" + from
                    + " -> " + to + "x" + to + " resample; expected " + Arrays.toString(want));
        }
        INDArray tokens = resized.castTo(DataType.FLOAT).permute(0, 2, 3, 1).dup('c')
                .reshape('c', 1, (long) to * to, dim);
        if (prefixTokens == 0) {
            return tokens;
        }
        INDArray prefix = src.get(NDArrayIndex.all(), NDArrayIndex.interval(0, prefixTokens), NDArrayIndex.all())
                .dup('c');
        return Nd4j.concat(1, prefix, tokens);
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
