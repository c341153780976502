package io.hgkd.core.mim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.sparse.ActiveMask;
import java.util.Arrays;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Test;

class MaskGeneratorTest {

    /** (B, h*w) 0/1 values of a mask. */
    private static float[][] cells(ActiveMask m) {
        return m.grid().reshape(m.batchSize(), m.height() * m.width()).toFloatMatrix();
    }

    private static void assertKeep(double ratio, int h, int w, int expected) {
        MaskGenerator g = new MaskGenerator(ratio, 42);
        assertEquals(expected, g.keepCount(h, w), h + "x" + w + " at " + ratio);
        ActiveMask m = g.next(5, h, w);
        assertArrayEquals(new long[] {5, 1, h, w}, m.grid().shape());
        for (float[] row : cells(m)) {
            double sum = 0;
            for (float v : row) {
                assertTrue(v == 0f || v == 1f);
                sum += v;
            }
            assertEquals(expected, sum, h + "x" + w + " at " + ratio);
        }
    }

    @Test
    void keepCountIsRoundHalfEven() {
        assertKeep(0.6, 7, 7, 20);   // SparK default: round(19.6)
        assertKeep(0.6, 14, 14, 78); // round(78.4)
        assertKeep(0.75, 6, 6, 9);
        assertKeep(0.0, 7, 7, 49);
        assertKeep(0.0, 1, 1, 1);
        assertKeep(0.5, 4, 5, 10);
        // exact .5 ties go to the even neighbour (Python's round), not up
        assertKeep(0.5, 3, 3, 4);    // 4.5 -> 4
        assertKeep(0.5, 1, 5, 2);    // 2.5 -> 2
        assertKeep(0.5, 1, 7, 4);    // 3.5 -> 4
        assertKeep(0.75, 2, 5, 2);   // 2.5 -> 2
    }

    @Test
    void rejectsRatiosLeavingNothingVisible() {
        // 2x2 at 0.875: 0.5 visible cells rounds (half to even) to 0
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MaskGenerator(0.875, 1).next(2, 2, 2));
        assertTrue(e.getMessage().contains("0.875") && e.getMessage().contains("2x2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MaskGenerator(0.99, 1).next(1, 7, 7));
        for (double bad : new double[] {1.0, -0.1, 1.5, Double.NaN}) {
            e = assertThrows(IllegalArgumentException.class, () -> new MaskGenerator(bad, 1));
            assertTrue(e.getMessage().contains(String.valueOf(bad)), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new MaskGenerator(0.6, 1).next(0, 7, 7));
        assertThrows(IllegalArgumentException.class, () -> new MaskGenerator(0.6, 1).next(1, 0, 7));
    }

    @Test
    void sameSeedSameSequenceDifferentSeedDifferent() {
        MaskGenerator a = new MaskGenerator(0.6, 1234);
        MaskGenerator b = new MaskGenerator(0.6, 1234);
        MaskGenerator c = new MaskGenerator(0.6, 1235);
        float[][] a1 = cells(a.next(8, 7, 7));
        float[][] a2 = cells(a.next(8, 7, 7));
        assertArrayEquals(a1, cells(b.next(8, 7, 7)));
        assertArrayEquals(a2, cells(b.next(8, 7, 7)));
        assertFalse(Arrays.deepEquals(a1, a2), "successive calls must give new masks");
        assertFalse(Arrays.deepEquals(a1, cells(c.next(8, 7, 7))), "different seeds must differ");
        // samples within a batch are drawn independently
        assertFalse(Arrays.equals(a1[0], a1[1]));
        assertEquals(0.6, a.maskRatio());
        assertEquals(1234, a.seed());
    }

    /**
     * Null: every cell is visible with probability {@code p} in each of {@code n} samples. Rejects when a cell is more
     * than 5 standard errors off or the chi-square goodness-of-fit p-value over all cells is below 1e-3.
     */
    private static String uniformityProblem(long[] visible, int n, double p) {
        double se = Math.sqrt(p * (1 - p) / n);
        double[] expected = new double[visible.length];
        for (int i = 0; i < visible.length; i++) {
            double f = visible[i] / (double) n;
            if (Math.abs(f - p) > 5 * se) {
                return "cell " + i + " visible frequency " + f + ", expected " + p + " +- " + se;
            }
            expected[i] = p * n;
        }
        double pValue = new ChiSquareTest().chiSquareTest(expected, visible);
        return pValue < 1e-3 ? "chi-square p-value " + pValue : null;
    }

    @Test
    void everyCellIsVisibleWithProbabilityOneMinusRatio() {
        int n = 4000, h = 7, w = 7;
        float[][] m = cells(new MaskGenerator(0.6, 20240601L).next(n, h, w));
        long[] visible = new long[h * w];
        for (float[] row : m) {
            for (int i = 0; i < row.length; i++) {
                visible[i] += (long) row[i];
            }
        }
        double p = 20.0 / 49.0;
        String problem = uniformityProblem(visible, n, p);
        assertTrue(problem == null, problem);
        // the check has power: a generator favouring one cell by ~12% (200 of ~1630), or spreading a smaller bias
        // over many cells, is rejected
        long[] oneCell = visible.clone();
        oneCell[0] += 200;
        oneCell[48] -= 200;
        assertTrue(uniformityProblem(oneCell, n, p) != null);
        long[] spread = visible.clone();
        for (int i = 0; i < 24; i++) {
            spread[i] += 100;
            spread[48 - i] -= 100;
        }
        assertTrue(uniformityProblem(spread, n, p) != null);
    }

    @Test
    void everyKeepSubsetIsEquallyLikely() {
        // 2x2 grid keeping 2 cells: the 6 subsets must be equally frequent (sampling without replacement)
        int n = 6000;
        float[][] m = cells(new MaskGenerator(0.5, 99).next(n, 2, 2));
        long[] counts = new long[16];
        for (float[] row : m) {
            int code = 0;
            for (int i = 0; i < 4; i++) {
                code |= (row[i] != 0 ? 1 : 0) << i;
            }
            counts[code]++;
        }
        long[] observed = new long[6];
        int k = 0;
        for (int code = 0; code < 16; code++) {
            if (Integer.bitCount(code) == 2) {
                observed[k++] = counts[code];
            } else {
                assertEquals(0, counts[code], "subset " + code + " has the wrong size");
            }
        }
        double[] expected = new double[6];
        Arrays.fill(expected, n / 6.0);
        assertTrue(new ChiSquareTest().chiSquareTest(expected, observed) > 1e-3, Arrays.toString(observed));
    }
}
