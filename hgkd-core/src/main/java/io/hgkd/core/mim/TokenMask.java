package io.hgkd.core.mim;

import io.hgkd.core.nn.Tensors;
import io.hgkd.core.sparse.ActiveMask;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Maps a SparK mask (coarse grid, e.g. 7x7 cells of 32 px on a 224 px image) to the token grid of a ViT teacher with
 * patch size {@code Pt} (G = imageSize / Pt tokens per side), by nearest neighbour at token centres.
 *
 * <p>Token (r, c) takes the mask cell that contains its centre pixel, row {@code floor((2 r Pt + Pt) / (2 cellH))}
 * and column {@code floor((2 c Pt + Pt) / (2 cellW))}, with {@code cell = imageSize / grid}. For even Pt this is
 * {@code floor((r Pt + Pt/2) / cell)}; the doubled form keeps odd Pt exact. For Pt=16 and 32 px cells it is exact 2x2
 * replication (a SparK cell covers 2x2 ViT tokens); for Pt=14 (G=16) some tokens straddle two cells and follow
 * their centre. The configuration is immutable.
 */
public final class TokenMask {
    private final int imageSize;
    private final int patchSize;

    /**
     * @param imageSize side of the square input image in pixels (e.g. 224)
     * @param patchSize teacher patch size Pt (e.g. 16 or 14); must divide {@code imageSize}
     */
    public TokenMask(int imageSize, int patchSize) {
        if (imageSize <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + imageSize);
        }
        if (patchSize <= 0) {
            throw new IllegalArgumentException("teacher patch size must be positive, got " + patchSize);
        }
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException("image size " + imageSize + " is not divisible by the teacher patch size "
                    + patchSize);
        }
        this.imageSize = imageSize;
        this.patchSize = patchSize;
    }

    /** Side of the square image in pixels. */
    public int imageSize() {
        return imageSize;
    }

    /** Teacher patch size Pt. */
    public int patchSize() {
        return patchSize;
    }

    /** Tokens per side, G = imageSize / Pt. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    /**
     * The mask cell index along one axis for each of the G tokens, for a mask grid of {@code cells} along that axis.
     *
     * @throws IllegalArgumentException if {@code cells} does not divide the image size
     */
    public int[] cellIndex(long cells) {
        if (cells <= 0 || imageSize % cells != 0) {
            throw new IllegalArgumentException("image size " + imageSize + " is not divisible by the mask grid "
                    + cells);
        }
        long cell = imageSize / cells;
        int g = gridSize();
        int[] idx = new int[g];
        for (int r = 0; r < g; r++) {
            // centre pixel r*Pt + Pt/2, doubled so that odd Pt stays in integers
            idx[r] = (int) ((2L * r * patchSize + patchSize) / (2 * cell));
        }
        return idx;
    }

    /**
     * The token-level mask, same meaning as the input (1 = visible/active).
     *
     * @param mask SparK mask over an h x w grid whose cells divide the image
     * @return a new (B, 1, G, G) FLOAT 0/1 array
     */
    public INDArray visible(ActiveMask mask) {
        return visible(mask.grid());
    }

    /**
     * As {@link #visible(ActiveMask)} on a raw (B, 1, h, w) 0/1 array; the result has the input's floating-point
     * type (FLOAT for non-floating inputs).
     */
    public INDArray visible(INDArray grid) {
        Tensors.requireRank(grid, 4, "TokenMask");
        if (grid.size(1) != 1) {
            throw new IllegalArgumentException("TokenMask expects a (B, 1, h, w) mask, got shape " + Tensors.shape(grid));
        }
        int[] rows = cellIndex(grid.size(2));
        int[] cols = cellIndex(grid.size(3));
        DataType type = grid.dataType().isFPType() ? grid.dataType() : DataType.FLOAT;
        // gather on Java arrays: one pass, no per-element ND4J calls (B can be in the thousands)
        double[] src = grid.castTo(DataType.DOUBLE).dup('c').reshape(grid.length()).toDoubleVector();
        int g = gridSize();
        int b = (int) grid.size(0);
        int h = (int) grid.size(2), w = (int) grid.size(3);
        double[] dst = new double[b * g * g];
        for (int s = 0; s < b; s++) {
            for (int r = 0; r < g; r++) {
                int srcRow = (s * h + rows[r]) * w;
                int dstRow = (s * g + r) * g;
                for (int c = 0; c < g; c++) {
                    dst[dstRow + c] = src[srcRow + cols[c]];
                }
            }
        }
        INDArray out = Nd4j.create(dst, new long[] {b, 1, g, g}, DataType.DOUBLE);
        return type == DataType.DOUBLE ? out : out.castTo(type);
    }

    /**
     * The masked-token map the feature loss consumes: {@code 1 - visible}, flattened row-major to (B, G*G), so
     * 1 = masked (counted by {@link io.hgkd.core.loss.MaskedMse}).
     *
     * @return a new (B, G*G) array of the requested floating-point type
     */
    public INDArray masked(ActiveMask mask, DataType type) {
        INDArray v = visible(mask).castTo(type);
        return v.rsubi(1.0).reshape('c', v.size(0), (long) gridSize() * gridSize());
    }

    /** {@link #masked(ActiveMask, DataType)} as FLOAT. */
    public INDArray masked(ActiveMask mask) {
        return masked(mask, DataType.FLOAT);
    }
}
