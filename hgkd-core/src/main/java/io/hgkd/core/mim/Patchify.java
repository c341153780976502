package io.hgkd.core.mim;

import io.hgkd.core.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;

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
        long b = img.size(0), c = img.size(1), hh = img.size(2), ww = img.size(3);
        if (hh % p != 0 || ww % p != 0) {
            throw new IllegalArgumentException("patchify: image size " + hh + "x" + ww
                    + " is not divisible by the patch size " + p);
        }
        long h = hh / p, w = ww / p;
        // (B,C,h,py,w,px) -> (B,h,w,py,px,C), then flatten: the same as SparK's reshape + einsum + reshape
        INDArray t = Tensors.contiguous(img).reshape('c', b, c, h, p, w, p).permute(0, 2, 4, 3, 5, 1);
        return t.dup('c').reshape('c', b, h * w, (long) p * p * c);
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
        // (B,h,w,py,px,C) -> (B,C,h,py,w,px)
        INDArray t = Tensors.contiguous(patches).reshape('c', b, h, w, p, p, channels).permute(0, 5, 1, 3, 2, 4);
        return t.dup('c').reshape('c', b, channels, (long) h * p, (long) w * p);
    }

    private static void requirePositive(int p) {
        if (p <= 0) {
            throw new IllegalArgumentException("patch size must be positive, got " + p);
        }
    }
}
