package io.hgkd.core.sparse;

import io.hgkd.core.nn.Tensors;
import io.hgkd.core.nn.UpsampleNearest2d;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Which cells of the coarsest feature grid are active (visible), per sample: a (B, 1, h, w) array of 0/1 values,
 * 1 = active. SparK's {@code active_b1ff}.
 *
 * <p>{@link #at(long, long)} expands the mask to any feature resolution that is an integer multiple of the grid by
 * nearest replication ({@code repeat_interleave}), as SparK does for every sparse op. Expanded masks are cached per
 * resolution and type, so a whole encoder pass expands each resolution once. The mask is passed to sparse modules as an
 * argument; it is never global state.
 */
public final class ActiveMask {
    private final INDArray grid;
    private final Map<String, INDArray> expanded = new HashMap<>();

    private ActiveMask(INDArray grid) {
        this.grid = grid;
    }

    /**
     * Wraps a (B, 1, h, w) array whose values are all 0 or 1 (any numeric type). The array is copied.
     *
     * @throws IllegalArgumentException if the shape or values are wrong, or a sample has no active cell
     */
    public static ActiveMask of(INDArray mask) {
        if (mask.rank() != 4 || mask.size(1) != 1) {
            throw new IllegalArgumentException("ActiveMask expects shape (B, 1, h, w), got " + Tensors.shape(mask));
        }
        INDArray m = mask.castTo(DataType.FLOAT).dup('c');
        long ones = m.eq(1.0).castTo(DataType.INT).sumNumber().longValue();
        long zeros = m.eq(0.0).castTo(DataType.INT).sumNumber().longValue();
        if (ones + zeros != m.length()) {
            throw new IllegalArgumentException("ActiveMask values must be 0 or 1");
        }
        INDArray perSample = m.sum(1, 2, 3);
        for (long b = 0; b < perSample.length(); b++) {
            if (perSample.getDouble(b) == 0) {
                throw new IllegalArgumentException("ActiveMask sample " + b + " has no active cell");
            }
        }
        return new ActiveMask(m);
    }

    /** Builds a mask from {@code active[b][cell]} over an h x w grid (row-major cells). */
    public static ActiveMask of(boolean[][] active, int h, int w) {
        float[] v = new float[active.length * h * w];
        for (int b = 0; b < active.length; b++) {
            if (active[b].length != h * w) {
                throw new IllegalArgumentException("sample " + b + " has " + active[b].length + " cells, expected "
                        + h * w);
            }
            for (int i = 0; i < h * w; i++) {
                v[b * h * w + i] = active[b][i] ? 1f : 0f;
            }
        }
        return of(Nd4j.create(v, new long[] {active.length, 1, h, w}, DataType.FLOAT));
    }

    /** All cells active: sparse modules then behave exactly like dense ones. */
    public static ActiveMask allActive(int batch, int h, int w) {
        return of(Nd4j.ones(DataType.FLOAT, batch, 1, h, w));
    }

    /** The (B, 1, h, w) float 0/1 grid (do not modify). */
    public INDArray grid() {
        return grid;
    }

    public long batchSize() {
        return grid.size(0);
    }

    public long height() {
        return grid.size(2);
    }

    public long width() {
        return grid.size(3);
    }

    /** Number of active cells of sample {@code b}. */
    public long activeCount(int b) {
        return grid.get(org.nd4j.linalg.indexing.NDArrayIndex.point(b)).sumNumber().longValue();
    }

    /** Whether cell (r, c) of sample {@code b} is active. */
    public boolean isActive(int b, int r, int c) {
        return grid.getDouble(b, 0, r, c) != 0;
    }

    /**
     * The mask at feature resolution H x W, (B, 1, H, W) as FLOAT; H and W must be integer multiples of the grid.
     */
    public INDArray at(long height, long width) {
        return at(height, width, DataType.FLOAT);
    }

    /** The mask at H x W in the given floating-point type (cached). */
    public synchronized INDArray at(long height, long width, DataType type) {
        if (height % grid.size(2) != 0 || width % grid.size(3) != 0 || height / grid.size(2) != width / grid.size(3)) {
            throw new IllegalArgumentException("feature map " + height + "x" + width + " is not an integer multiple"
                    + " of the " + grid.size(2) + "x" + grid.size(3) + " mask grid");
        }
        String key = height + "x" + width + ":" + type;
        return expanded.computeIfAbsent(key, k -> {
            int f = (int) (height / grid.size(2));
            INDArray g = grid.castTo(type);
            return f == 1 ? g.dup('c') : UpsampleNearest2d.upsample(g, f);
        });
    }

    /**
     * {@code x} with its inactive positions set to 0 (a new array): how a sparse encoder's input is masked, as
     * SparK's {@code inp * active_pixels}. Sparse ops assume inactive inputs are 0 and keep them 0.
     */
    public INDArray apply(INDArray x) {
        return x.mul(like(x));
    }

    /** The mask at the spatial size of {@code feature} (B, C, H, W), in its type; checks the batch size. */
    public INDArray like(INDArray feature) {
        if (feature.rank() != 4 || feature.size(0) != grid.size(0)) {
            throw new IllegalArgumentException("feature " + Tensors.shape(feature) + " does not match mask batch "
                    + grid.size(0));
        }
        return at(feature.size(2), feature.size(3), feature.dataType());
    }
}
