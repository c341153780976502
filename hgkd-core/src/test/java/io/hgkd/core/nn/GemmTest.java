package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link Gemm} against a plain double-precision triple loop, for every transpose combination and every memory layout
 * the direct OpenBLAS path accepts (c, f, strided sub-blocks, transposed views, size-1 dimensions) and some it must
 * hand to {@code Nd4j.gemm}.
 */
class GemmTest {
    private final Random rnd = new Random(7);

    /** Ways to hold an (r, c) matrix: the function builds it from its values. */
    private static List<Function<double[][], INDArray>> layouts(DataType t) {
        List<Function<double[][], INDArray>> out = new ArrayList<>();
        out.add(v -> Nd4j.create(v).castTo(t).dup('c'));
        out.add(v -> Nd4j.create(v).castTo(t).dup('f'));
        // a sub-block of a wider and taller c-order matrix: leading dimension > cols, nonzero offset
        out.add(v -> embed(v, t, 'c'));
        // the same in f order: unit-stride columns, leading dimension > rows
        out.add(v -> embed(v, t, 'f'));
        // the transpose view of a c-order transpose: f-like strides
        out.add(v -> Nd4j.create(transpose(v)).castTo(t).dup('c').transpose());
        // elementwise-strided in both dimensions: not expressible to BLAS, must fall back
        out.add(v -> {
            INDArray big = Nd4j.zeros(t, 2L * v.length, 2L * v[0].length);
            INDArray view = big.get(NDArrayIndex.interval(0, 2, 2L * v.length),
                    NDArrayIndex.interval(0, 2, 2L * v[0].length));
            view.assign(Nd4j.create(v).castTo(t));
            return view;
        });
        return out;
    }

    private static INDArray embed(double[][] v, DataType t, char order) {
        int r = v.length;
        int c = v[0].length;
        INDArray big = Nd4j.create(t, new long[] {r + 3, c + 5}, order);
        INDArray view = big.get(NDArrayIndex.interval(2, 2 + r), NDArrayIndex.interval(1, 1 + c));
        view.assign(Nd4j.create(v).castTo(t));
        return view;
    }

    private static double[][] transpose(double[][] v) {
        double[][] t = new double[v[0].length][v.length];
        for (int i = 0; i < v.length; i++) {
            for (int j = 0; j < v[0].length; j++) {
                t[j][i] = v[i][j];
            }
        }
        return t;
    }

    private double[][] random(int r, int c) {
        double[][] v = new double[r][c];
        for (double[] row : v) {
            for (int j = 0; j < c; j++) {
                row[j] = rnd.nextGaussian();
            }
        }
        return v;
    }

    private static double[][] expected(double[][] a, double[][] b, double[][] c, boolean ta, boolean tb,
            double alpha, double beta) {
        double[][] oa = ta ? transpose(a) : a;
        double[][] ob = tb ? transpose(b) : b;
        double[][] out = new double[c.length][c[0].length];
        for (int i = 0; i < out.length; i++) {
            for (int j = 0; j < out[0].length; j++) {
                double s = 0;
                for (int p = 0; p < ob.length; p++) {
                    s += oa[i][p] * ob[p][j];
                }
                out[i][j] = alpha * s + beta * c[i][j];
            }
        }
        return out;
    }

    private void check(DataType t, int m, int n, int k, double tol) {
        List<Function<double[][], INDArray>> ls = layouts(t);
        int cases = 0;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                double[][] a = random(ta ? k : m, ta ? m : k);
                double[][] b = random(tb ? n : k, tb ? k : n);
                double[][] c0 = random(m, n);
                double alpha = 0.75;
                double beta = cases % 2 == 0 ? 0.0 : -0.5;
                double[][] want = expected(a, b, c0, ta, tb, alpha, beta);
                for (int la = 0; la < ls.size(); la++) {
                    for (int lb = 0; lb < ls.size(); lb++) {
                        for (int lc = 0; lc < ls.size(); lc++) {
                            INDArray c = ls.get(lc).apply(c0);
                            INDArray got = Gemm.gemm(ls.get(la).apply(a), ls.get(lb).apply(b), c, ta, tb, alpha,
                                    beta);
                            assertTrue(got == c, "gemm returns C");
                            String what = t + " m" + m + " n" + n + " k" + k + " ta=" + ta + " tb=" + tb
                                    + " layouts A" + la + " B" + lb + " C" + lc;
                            for (int i = 0; i < m; i++) {
                                for (int j = 0; j < n; j++) {
                                    assertEquals(want[i][j], c.getDouble(i, j), tol * (1 + Math.abs(want[i][j])),
                                            what + " at (" + i + "," + j + ")");
                                }
                            }
                            cases++;
                        }
                    }
                }
            }
        }
        assertEquals(4 * 6 * 6 * 6, cases);
    }

    @Test
    void directPathIsOnWithTheCpuBackend() {
        // the tests run on nd4j-native with the OpenBLAS bindings: the comparisons below exercise the direct path
        assertTrue(Gemm.direct(), "Gemm.direct() should be on with the CPU backend and org.bytedeco:openblas");
    }

    @Test
    void floatMatchesTripleLoop() {
        check(DataType.FLOAT, 5, 7, 9, 1e-5);
    }

    @Test
    void doubleMatchesTripleLoop() {
        check(DataType.DOUBLE, 4, 3, 6, 1e-12);
    }

    @Test
    void sizeOneDimensions() {
        check(DataType.DOUBLE, 1, 4, 3, 1e-12);
        check(DataType.DOUBLE, 4, 1, 3, 1e-12);
        check(DataType.DOUBLE, 3, 4, 1, 1e-12);
    }

    @Test
    void shapesThatDoNotChainAreRejected() {
        INDArray a = Nd4j.zeros(DataType.FLOAT, 2, 3);
        INDArray b = Nd4j.zeros(DataType.FLOAT, 4, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(a, b, Nd4j.zeros(DataType.FLOAT, 2, 5), false, false, 1, 0));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(Nd4j.zeros(DataType.FLOAT, 2, 3, 1), b, Nd4j.zeros(DataType.FLOAT, 2, 5), false,
                        false, 1, 0));
    }
}
