package io.hgkd.models.vit;

import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.Gemm;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.RowKernels;
import io.hgkd.core.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm's {@code PatchEmbed}: {@code proj = Conv2d(inChans, D, kernel=P, stride=P)}, then flatten and transpose to
 * tokens {@code (B, N, D)} with token {@code n = r * gridW + c} (row-major over the patch grid).
 *
 * <p>As timm's default {@code strict_img_size=True}, the input must be exactly {@code imgSize x imgSize}: the
 * position embedding is sized for that grid (resample it with {@link PosEmbed#resample} for another size).
 */
public class PatchEmbed extends Module {
    private final int imgSize;
    private final int patchSize;
    private final int inChans;
    private final Conv2d proj;

    private INDArray input;
    private INDArray patchRows;
    private long[] gridShape;
    private INDArray tokens;
    private INDArray gradMap;

    public PatchEmbed(int imgSize, int patchSize, int inChans, int embedDim) {
        if (imgSize <= 0 || patchSize <= 0 || imgSize % patchSize != 0) {
            throw new IllegalArgumentException("PatchEmbed: imgSize " + imgSize + " must be a positive multiple of"
                    + " patchSize " + patchSize);
        }
        this.imgSize = imgSize;
        this.patchSize = patchSize;
        this.inChans = inChans;
        this.proj = registerModule("proj", new Conv2d(inChans, embedDim, patchSize, patchSize, 0, true));
    }

    /** The patch projection ({@code patch_embed.proj}). */
    public Conv2d proj() {
        return proj;
    }

    public int patchSize() {
        return patchSize;
    }

    /** Patches per side. */
    public int gridSize() {
        return imgSize / patchSize;
    }

    /** @param x (B, C, imgSize, imgSize); @return tokens (B, N, D), a buffer owned by this module */
    @Override
    public INDArray forward(INDArray x) {
        Tensors.requireRank(x, 4, "PatchEmbed");
        if (x.size(2) != imgSize || x.size(3) != imgSize) {
            throw new IllegalArgumentException("PatchEmbed: input size " + x.size(2) + "x" + x.size(3)
                    + " does not match the model's imgSize " + imgSize + " (shape " + Tensors.shape(x) + ")");
        }
        input = x;
        INDArray map = proj.forward(x);
        gridShape = map.shape();
        long b = map.size(0), d = map.size(1), n = map.size(2) * map.size(3);
        tokens = Tensors.reuse(tokens, map.dataType(), b, n, d);
        tokens.assign(map.reshape('c', b, d, n).permute(0, 2, 1));
        return tokens;
    }

    /** @param gradOutput (B, N, D); @return the gradient with respect to the image */
    @Override
    public INDArray backward(INDArray gradOutput) {
        long b = gridShape[0], d = gridShape[1], n = gridShape[2] * gridShape[3];
        gradMap = Tensors.reuse(gradMap, gradOutput.dataType(), gridShape);
        gradMap.reshape('c', b, d, n).assign(gradOutput.reshape(b, n, d).permute(0, 2, 1));
        return proj.backward(gradMap);
    }

    /**
     * Backward of the last forward into the parameter gradients only, for an input that needs no gradient (as
     * PyTorch skips it): the patch projection is a GEMM over non-overlapping patches,
     * {@code dW += g^T patches} with {@code patches} (B*N, C*P*P) in {@code proj.weight}'s (D, C, P, P) order, and
     * {@code db += column sums of g}. Cheaper than {@link #backward}, which also computes the image gradient.
     *
     * @param gradOutput (B, N, D)
     */
    public void backwardParameters(INDArray gradOutput) {
        if (gridShape == null) {
            throw new IllegalStateException("PatchEmbed.backwardParameters called before forward");
        }
        long b = gridShape[0], d = gridShape[1], gh = gridShape[2], gw = gridShape[3], n = gh * gw;
        int p = patchSize;
        long cols = (long) inChans * p * p;
        INDArray g = Tensors.contiguous(gradOutput).reshape('c', b * n, d);
        if (g.dataType() != input.dataType()) {
            g = g.castTo(input.dataType());
        }
        if (proj.weight().requiresGrad()) {
            patchRows = Tensors.reuse(patchRows, input.dataType(), b * n, cols);
            patchRows.reshape('c', b, gh, gw, inChans, p, p)
                    .assign(Tensors.contiguous(input).reshape('c', b, inChans, gh, p, gw, p).permute(0, 2, 4, 1, 3, 5));
            double beta = proj.weight().gradBeta();
            INDArray w2 = proj.weight().grad().reshape('c', d, cols);
            Gemm.gemm(g, patchRows, w2, true, false, 1.0, beta);
        }
        if (proj.bias() != null && proj.bias().requiresGrad()) {
            RowKernels.addColumnSums(g, proj.bias().grad());
        }
    }
}
