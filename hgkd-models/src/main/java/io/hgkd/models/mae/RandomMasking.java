package io.hgkd.models.mae;

import io.hgkd.core.nn.Tensors;
import java.util.Arrays;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MAE's per-sample random masking ({@code models_mae.random_masking}): {@code ids_shuffle = argsort(noise)},
 * {@code ids_restore = argsort(ids_shuffle)}, the first {@code len_keep = int(L * (1 - ratio))} shuffled patches are
 * kept (visible), the rest removed.
 *
 * <p>The sort is stable (ties broken by patch index); {@code torch.argsort} is not, so only noise without ties (any
 * continuous draw) reproduces PyTorch exactly.
 *
 * @param lenKeep    visible patches per sample
 * @param idsShuffle per sample, patch indices sorted by noise: the first {@code lenKeep} are visible
 * @param idsRestore per sample, the inverse permutation: patch l sits at position {@code idsRestore[b][l]} of the
 *                   shuffled order (visible iff that is below {@code lenKeep})
 */
public record RandomMasking(int lenKeep, int[][] idsShuffle, int[][] idsRestore) {

    /** Builds the masking from explicit noise (B, L), as MAE does from {@code torch.rand(N, L)}. */
    public static RandomMasking fromNoise(INDArray noise, double maskRatio) {
        Tensors.requireRank(noise, 2, "random masking noise (B, L)");
        int b = (int) noise.size(0);
        int l = (int) noise.size(1);
        double[][] values = new double[b][];
        for (int i = 0; i < b; i++) {
            values[i] = noise.getRow(i).castTo(DataType.DOUBLE).dup().toDoubleVector();
        }
        return fromNoise(values, maskRatio, l);
    }

    /** Draws uniform noise in [0, 1) from {@code rng} (rounded to float, as {@code torch.rand}) and masks with it. */
    public static RandomMasking random(int batch, int numPatches, double maskRatio, RandomGenerator rng) {
        double[][] values = new double[batch][numPatches];
        for (double[] row : values) {
            for (int j = 0; j < numPatches; j++) {
                row[j] = (float) rng.nextDouble();
            }
        }
        return fromNoise(values, maskRatio, numPatches);
    }

    private static RandomMasking fromNoise(double[][] noise, double maskRatio, int l) {
        if (!(maskRatio >= 0 && maskRatio < 1)) {
            throw new IllegalArgumentException("maskRatio must be in [0, 1), got " + maskRatio);
        }
        int keep = MaeConfig.lenKeep(l, maskRatio);
        int[][] shuffle = new int[noise.length][];
        int[][] restore = new int[noise.length][l];
        for (int i = 0; i < noise.length; i++) {
            double[] row = noise[i];
            shuffle[i] = java.util.stream.IntStream.range(0, l).boxed()
                    .sorted((p, q) -> Double.compare(row[p], row[q])).mapToInt(Integer::intValue).toArray();
            for (int k = 0; k < l; k++) {
                restore[i][shuffle[i][k]] = k;
            }
        }
        return new RandomMasking(keep, shuffle, restore);
    }

    public int batch() {
        return idsShuffle.length;
    }

    public int numPatches() {
        return idsShuffle.length == 0 ? 0 : idsShuffle[0].length;
    }

    /** Whether patch {@code l} of sample {@code b} is removed (masked). */
    public boolean isMasked(int b, int l) {
        return idsRestore[b][l] >= lenKeep;
    }

    /** MAE's {@code mask}: (B, L), 1 where a patch is removed, 0 where visible. */
    public INDArray mask(DataType type) {
        INDArray m = Nd4j.create(type, batch(), numPatches());
        for (int b = 0; b < batch(); b++) {
            for (int l = 0; l < numPatches(); l++) {
                m.putScalar(b, l, isMasked(b, l) ? 1.0 : 0.0);
            }
        }
        return m;
    }

    /** {@code ids_restore} as a LONG (B, L) array. */
    public INDArray idsRestoreArray() {
        long[][] v = new long[batch()][];
        for (int b = 0; b < batch(); b++) {
            v[b] = Arrays.stream(idsRestore[b]).asLongStream().toArray();
        }
        return Nd4j.createFromArray(v);
    }
}
