package io.hgkd.train.distill;

import io.hgkd.core.loss.MaskedMse;
import io.hgkd.core.mim.PatchNorm;
import io.hgkd.core.mim.Patchify;
import io.hgkd.core.nn.Tensors;
import io.hgkd.core.sparse.ActiveMask;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * L_pix, SparK's pixel loss (method.md §3.6): the reconstruction and the <em>unmasked</em> input image are patchified
 * at the mask cell size, the target is normalised per patch (unbiased variance, eps 1e-6), and the MSE is averaged
 * over masked patches of the whole batch ({@code sum(l * m) / (sum(m) + 1e-8)}). Built from core's
 * {@link Patchify}, {@link PatchNorm} and {@link MaskedMse}. Not thread-safe.
 */
public final class PixelLoss {
    private final MaskedMse mse = new MaskedMse();
    private int p;
    private int channels;
    private int gh;
    private int gw;

    /**
     * @param pixels (B, C, H, W) the student's reconstruction
     * @param image  (B, C, H, W) the normalised input before masking
     * @param mask   SparK mask (1 = visible) on an (H/p, W/p) grid
     * @return the scalar loss
     */
    public double forward(INDArray pixels, INDArray image, ActiveMask mask) {
        Tensors.requireRank(pixels, 4, "PixelLoss reconstruction");
        if (!java.util.Arrays.equals(pixels.shape(), image.shape())) {
            throw new IllegalArgumentException("PixelLoss reconstruction " + Tensors.shape(pixels)
                    + " and image " + Tensors.shape(image) + " differ");
        }
        gh = (int) mask.height();
        gw = (int) mask.width();
        if (pixels.size(2) % gh != 0 || pixels.size(2) / gh != pixels.size(3) / gw || pixels.size(3) % gw != 0
                || mask.batchSize() != pixels.size(0)) {
            throw new IllegalArgumentException("PixelLoss mask (" + mask.batchSize() + ", " + gh + "x" + gw
                    + ") does not tile the image " + Tensors.shape(pixels) + " into square cells");
        }
        p = (int) (pixels.size(2) / gh);
        channels = (int) pixels.size(1);
        INDArray target = PatchNorm.DEFAULT.apply(Patchify.patchify(image.castTo(pixels.dataType()), p));
        INDArray masked = mask.grid().castTo(pixels.dataType()).rsub(1.0).reshape('c', pixels.size(0), (long) gh * gw);
        return mse.forward(Patchify.patchify(pixels, p), target, masked);
    }

    /** Gradient of {@code upstream * loss} with respect to the reconstruction, (B, C, H, W). */
    public INDArray backward(double upstream) {
        return Patchify.unpatchify(mse.backward(upstream), p, channels, gh, gw);
    }
}
