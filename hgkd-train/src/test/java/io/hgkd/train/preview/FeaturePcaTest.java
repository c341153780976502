package io.hgkd.train.preview;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** PCA colouring on data whose principal directions and colour extremes are known by construction. */
class FeaturePcaTest {

    /** The 8 corners (+-10, +-3, +-1, 0): mean 0, covariance diag(100, 9, 1, 0) scaled, so the PCs are e0, e1, e2. */
    static double[][] corners() {
        List<double[]> rows = new ArrayList<>();
        for (int a : new int[] {-10, 10}) {
            for (int b : new int[] {-3, 3}) {
                for (int c : new int[] {-1, 1}) {
                    rows.add(new double[] {a, b, c, 0});
                }
            }
        }
        return rows.toArray(new double[0][]);
    }

    @Test
    void axisAlignedDataGivesTheAxesAndTheirExtremesAsColours() {
        FeaturePca pca = FeaturePca.fit(corners());
        double[][] basis = pca.basis();
        assertEquals(3, basis.length);
        assertArrayEquals(new double[] {1, 0, 0, 0}, basis[0], 1e-9);
        assertArrayEquals(new double[] {0, 1, 0, 0}, basis[1], 1e-9);
        assertArrayEquals(new double[] {0, 0, 1, 0}, basis[2], 1e-9);
        assertEquals(0xFFFFFF, pca.rgb(new double[] {10, 3, 1, 0}));
        assertEquals(0x000000, pca.rgb(new double[] {-10, -3, -1, 0}));
        assertEquals(0xFF00FF, pca.rgb(new double[] {10, -3, 1, 0}));
        // the mean is mid-grey; the fourth (zero-variance) direction does not show
        assertEquals(0x808080, pca.rgb(new double[] {0, 0, 0, 5}));
        // a prediction outside the teacher's range is clamped, with the teacher's basis and ranges
        assertEquals(0xFF8080, pca.rgb(new double[] {20, 0, 0, 0}));
        assertEquals(0x000080, pca.rgb(new double[] {-20, -7, 0, 0}));
    }

    @Test
    void rotatedAndShiftedDataGiveTheRotatedAxesAndTheSameColours() {
        // an orthonormal basis of R^5 from Gram-Schmidt on seeded random vectors
        Random r = new Random(7);
        int d = 5;
        double[][] q = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                q[i][j] = r.nextGaussian();
            }
            for (int k = 0; k < i; k++) {
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += q[i][j] * q[k][j];
                }
                for (int j = 0; j < d; j++) {
                    q[i][j] -= dot * q[k][j];
                }
            }
            double n = 0;
            for (int j = 0; j < d; j++) {
                n += q[i][j] * q[i][j];
            }
            for (int j = 0; j < d; j++) {
                q[i][j] /= Math.sqrt(n);
            }
        }
        double[] shift = {1, -2, 3, 0.5, 4};
        double[][] axis = corners();
        double[][] rotated = new double[axis.length][];
        for (int i = 0; i < axis.length; i++) {
            rotated[i] = map(q, shift, axis[i]);
        }
        FeaturePca pca = FeaturePca.fit(rotated);
        double[][] basis = pca.basis();
        for (int k = 0; k < 3; k++) {
            double dot = 0;
            for (int j = 0; j < d; j++) {
                dot += basis[k][j] * q[k][j];
            }
            assertEquals(1.0, Math.abs(dot), 1e-9, "component " + k);
        }
        // colours depend on the signs fixed by the rule, so compare per channel up to reflection
        FeaturePca axisPca = FeaturePca.fit(axis);
        for (double[] x : new double[][] {{10, 3, 1, 0}, {0, 0, 0, 0}, {5, -3, 0.5, 0}}) {
            int a = axisPca.rgb(x);
            int b = pca.rgb(map(q, shift, x));
            for (int ch = 0; ch < 3; ch++) {
                int va = (a >> (16 - 8 * ch)) & 0xFF;
                int vb = (b >> (16 - 8 * ch)) & 0xFF;
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += basis[ch][j] * q[ch][j];
                }
                assertEquals(dot > 0 ? va : 255 - va, vb, 1, "channel " + ch + " of " + java.util.Arrays.toString(x));
            }
        }
    }

    /** shift + sum_k x_k q_k (x padded with zeros to q's dimension). */
    private static double[] map(double[][] q, double[] shift, double[] x) {
        double[] out = shift.clone();
        for (int k = 0; k < x.length; k++) {
            for (int j = 0; j < out.length; j++) {
                out[j] += x[k] * q[k][j];
            }
        }
        return out;
    }

    @Test
    void refusesTooFewOrRaggedRows() {
        assertThrows(IllegalArgumentException.class, () -> FeaturePca.fit(new double[][] {{1, 2, 3}}));
        assertThrows(IllegalArgumentException.class, () -> FeaturePca.fit(new double[][] {{1, 2, 3}, {1, 2}}));
    }
}
