package io.hgkd.core.mim;

import io.hgkd.core.nn.Tensors;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SparK's {@code patchify}/{@code unpatchify} (pretrain/spark.py): cuts an NCHW image into non-overlapping
 * {@code p x p} patches and flattens each one.
 *
 * <p>Layout (einsum {@code 'bchpwq->bhwpqc'}): patches are numbered row-major over the {@code (H/p) x (W/p)} grid, and
 * inside a patch the flat index of pixel {@code (py, px)} of channel {@code c} is {@code (py*p + px)*C + c}. Both
 * functions are pure data movement, so they keep the input's data type (FLOAT or DOUBLE) and are exact.
 */
public final class Patchify {
    private Patchify() {
    }

    /**
     * Splits images into flattened patches.
     *
     * @param img (B, C, H, W) images; H and W must be multiples of {@code p}
     * @param p   patch size in pixels
     * @return a new c-order array (B, (H/p)*(W/p), p*p*C)
     */
    public static INDArray patchify(INDArray img, int p) {
        Tensors.requireRank(img, 4, "patchify");
        requirePositive(p);
        // the shape of a valid call; patchify(img, p, out) reports a bad one
        long b = img.size(0), c = img.size(1), h = img.size(2) / p, w = img.size(3) / p;
        return patchify(img, p, Nd4j.create(img.dataType(), new long[] {b, h * w, (long) p * p * c}, 'c'));
    }

    /**
     * {@link #patchify(INDArray, int)} into {@code out}, a c-order (B, (H/p)*(W/p), p*p*C) array of the image's type
     * (a reused buffer: no new native memory).
     *
     * @return {@code out}
     */
    public static INDArray patchify(INDArray img, int p, INDArray out) {
        Tensors.requireRank(img, 4, "patchify");
        requirePositive(p);
        long b = img.size(0), c = img.size(1), hh = img.size(2), ww = img.size(3);
        if (hh % p != 0 || ww % p != 0) {
            throw new IllegalArgumentException("patchify: image size " + hh + "x" + ww
                    + " is not divisible by the patch size " + p);
        }
        long h = hh / p, w = ww / p;
        requireDense(out, img.dataType(), "patchify", b, h * w, (long) p * p * c);
        // (B,C,h,py,w,px) -> (B,h,w,py,px,C), then flatten: the same as SparK's reshape + einsum + reshape
        INDArray t = Tensors.contiguous(img).reshape('c', b, c, h, p, w, p).permute(0, 2, 4, 3, 5, 1);
        out.reshape('c', b, h, w, p, p, c).assign(t);
        return out;
    }

    /**
     * Inverse of {@link #patchify(INDArray, int)}.
     *
     * @param patches (B, h*w, p*p*C) flattened patches
     * @param p       patch size in pixels
     * @param channels number of image channels C
     * @param h       patch-grid height (image height / p)
     * @param w       patch-grid width (image width / p)
     * @return a new c-order array (B, C, h*p, w*p)
     */
    public static INDArray unpatchify(INDArray patches, int p, int channels, int h, int w) {
        Tensors.requireRank(patches, 3, "unpatchify");
        requirePositive(p);
        // the shape of a valid call; unpatchify(..., out) reports a bad one
        long[] shape = {patches.size(0), Math.max(channels, 0), (long) Math.max(h, 0) * p, (long) Math.max(w, 0) * p};
        return unpatchify(patches, p, channels, h, w, Nd4j.create(patches.dataType(), shape, 'c'));
    }

    /**
     * {@link #unpatchify(INDArray, int, int, int, int)} into {@code out}, a c-order (B, C, h*p, w*p) array of the
     * patches' type (a reused buffer: no new native memory).
     *
     * @return {@code out}
     */
    public static INDArray unpatchify(INDArray patches, int p, int channels, int h, int w, INDArray out) {
        Tensors.requireRank(patches, 3, "unpatchify");
        requirePositive(p);
        if (channels <= 0 || h <= 0 || w <= 0) {
            throw new IllegalArgumentException("unpatchify: channels, h and w must be positive, got C=" + channels
                    + ", h=" + h + ", w=" + w);
        }
        long b = patches.size(0);
        if (patches.size(1) != (long) h * w || patches.size(2) != (long) p * p * channels) {
            throw new IllegalArgumentException("unpatchify: expected patches of shape [" + b + ", " + (long) h * w
                    + ", " + (long) p * p * channels + "] for p=" + p + ", C=" + channels + ", h=" + h + ", w=" + w
                    + ", got " + Tensors.shape(patches));
        }
        requireDense(out, patches.dataType(), "unpatchify", b, channels, (long) h * p, (long) w * p);
        // (B,h,w,py,px,C) -> (B,C,h,py,w,px)
        INDArray t = Tensors.contiguous(patches).reshape('c', b, h, w, p, p, channels).permute(0, 5, 1, 3, 2, 4);
        out.reshape('c', b, channels, h, p, w, p).assign(t);
        return out;
    }

    private static void requireDense(INDArray out, DataType type, String what, long... shape) {
        if (out.dataType() != type || out.ordering() != 'c' || out.isView() || !Arrays.equals(out.shape(), shape)) {
            throw new IllegalArgumentException(what + ": the output must be a dense c-order " + type + " array of "
                    + "shape " + Arrays.toString(shape) + ", got " + out.dataType() + " " + out.ordering() + "-order "
                    + Tensors.shape(out) + (out.isView() ? " (a view)" : ""));
        }
    }

    private static void requirePositive(int p) {
        if (p <= 0) {
            throw new IllegalArgumentException("patch size must be positive, got " + p);
        }
    }
}
