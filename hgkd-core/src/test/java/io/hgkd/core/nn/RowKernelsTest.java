package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.Parity;
import io.hgkd.core.testing.TestData;
import org.apache.commons.math3.special.Erf;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The raw-buffer kernels against plain double-precision recomputations, on arrays large enough to be split over
 * threads and given as views with a non-zero offset (rows 3.. of a larger array).
 */
class RowKernelsTest {
    private static final int ROWS = 300;
    private static final int DIM = 200;

    /** Rows 3 .. 3 + rows of a larger random array: a dense view whose data starts at a non-zero offset. */
    private static INDArray offsetRows(long seed, int rows, int dim, DataType type) {
        INDArray big = TestData.randn(seed, rows + 5, dim).muli(2).castTo(type);
        INDArray v = big.get(NDArrayIndex.interval(3, 3 + rows), NDArrayIndex.all());
        assertTrue(v.offset() > 0 && RowKernels.isDense(v));
        return v;
    }

    private static INDArray fromRows(double[][] a, DataType type) {
        return Nd4j.create(a).castTo(type);
    }

    private static double[][] rows(INDArray a) {
        return a.castTo(DataType.DOUBLE).toDoubleMatrix();
    }

    @Test
    void floatErfIsAccurateToFloatPrecision() {
        double worst = 0;
        for (int i = -80000; i <= 80000; i++) {
            double x = i * 1e-4;
            worst = Math.max(worst, Math.abs(RowKernels.erf((float) x) - Erf.erf((float) x)));
        }
        // measured 4.2e-7: a few float ulps near |erf| = 1 (ulp 6e-8); a wrong coefficient is off by far more
        assertTrue(worst < 5e-7, "max |erf error| " + worst);
    }

    @Test
    void layerNormForwardAndBackward() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            INDArray x = offsetRows(1, ROWS, DIM, type);
            INDArray g = offsetRows(2, ROWS, DIM, type);
            INDArray w = TestData.randn(3, DIM).castTo(type);
            INDArray b = TestData.randn(4, DIM).castTo(type);
            double eps = 1e-6;
            double[][] xs = rows(x);
            double[][] gs = rows(g);
            double[] ws = w.castTo(DataType.DOUBLE).toDoubleVector();
            double[] bs = b.castTo(DataType.DOUBLE).toDoubleVector();
            double[][] yRef = new double[ROWS][DIM];
            double[][] dxRef = new double[ROWS][DIM];
            double[] dwRef = new double[DIM];
            double[] dbRef = new double[DIM];
            for (int r = 0; r < ROWS; r++) {
                double mean = 0;
                double var = 0;
                for (double v : xs[r]) {
                    mean += v / DIM;
                }
                for (double v : xs[r]) {
                    var += (v - mean) * (v - mean) / DIM;
                }
                double rs = 1 / Math.sqrt(var + eps);
                double[] h = new double[DIM];
                double m1 = 0;
                double m2 = 0;
                for (int i = 0; i < DIM; i++) {
                    h[i] = (xs[r][i] - mean) * rs;
                    yRef[r][i] = h[i] * ws[i] + bs[i];
                    dwRef[i] += gs[r][i] * h[i];
                    dbRef[i] += gs[r][i];
                    m1 += gs[r][i] * ws[i] / DIM;
                    m2 += gs[r][i] * ws[i] * h[i] / DIM;
                }
                for (int i = 0; i < DIM; i++) {
                    dxRef[r][i] = rs * (gs[r][i] * ws[i] - m1 - h[i] * m2);
                }
            }
            INDArray y = Nd4j.create(type, ROWS, DIM);
            double[] mean = new double[ROWS];
            double[] rstd = new double[ROWS];
            RowKernels.layerNormForward(x, w, b, eps, y, mean, rstd);
            double rtol = type == DataType.FLOAT ? 1e-5 : 1e-12;
            Parity.assertClose("rowkernels " + type, "layernorm_y", fromRows(yRef, DataType.DOUBLE),
                    y.castTo(DataType.DOUBLE), rtol, rtol);
            INDArray dx = Nd4j.create(type, ROWS, DIM);
            INDArray dw = Nd4j.ones(type, DIM);
            INDArray db = Nd4j.ones(type, DIM);
            RowKernels.layerNormBackward(g, x, mean, rstd, w, dx, dw, db);
            Parity.assertClose("rowkernels " + type, "layernorm_dx", fromRows(dxRef, DataType.DOUBLE),
                    dx.castTo(DataType.DOUBLE), rtol * 10, rtol * 10);
            for (int i = 0; i < DIM; i++) {   // gradients accumulate onto the ones
                dwRef[i] += 1;
                dbRef[i] += 1;
            }
            Parity.assertClose("rowkernels " + type, "layernorm_dw", Nd4j.createFromArray(dwRef),
                    dw.castTo(DataType.DOUBLE), rtol * 10, rtol * 10);
            Parity.assertClose("rowkernels " + type, "layernorm_db", Nd4j.createFromArray(dbRef),
                    db.castTo(DataType.DOUBLE), rtol * 10, rtol * 10);
        }
    }

    @Test
    void softmaxForwardAndBackward() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            INDArray x = offsetRows(5, ROWS, DIM, type);
            INDArray g = offsetRows(6, ROWS, DIM, type);
            double[][] xs = rows(x);
            double[][] gs = rows(g);
            double[][] pRef = new double[ROWS][DIM];
            double[][] dRef = new double[ROWS][DIM];
            for (int r = 0; r < ROWS; r++) {
                double s = 0;
                for (int i = 0; i < DIM; i++) {
                    s += Math.exp(xs[r][i]);
                }
                double dot = 0;
                for (int i = 0; i < DIM; i++) {
                    pRef[r][i] = Math.exp(xs[r][i]) / s;
                    dot += pRef[r][i] * gs[r][i];
                }
                for (int i = 0; i < DIM; i++) {
                    dRef[r][i] = pRef[r][i] * (gs[r][i] - dot);
                }
            }
            INDArray p = Nd4j.create(type, ROWS, DIM);
            RowKernels.softmaxForward(x, p);
            double tol = type == DataType.FLOAT ? 1e-6 : 1e-14;
            Parity.assertClose("rowkernels " + type, "softmax", fromRows(pRef, DataType.DOUBLE),
                    p.castTo(DataType.DOUBLE), tol * 10, tol);
            RowKernels.softmaxBackward(g, p, g);   // in place
            Parity.assertClose("rowkernels " + type, "softmax_bp", fromRows(dRef, DataType.DOUBLE),
                    g.castTo(DataType.DOUBLE), tol * 100, tol);
        }
    }

    @Test
    void floatGeluForwardAndBackward() {
        INDArray x = offsetRows(7, ROWS, DIM, DataType.FLOAT);
        INDArray g = offsetRows(8, ROWS, DIM, DataType.FLOAT);
        double[][] xs = rows(x);
        double[][] gs = rows(g);
        double[][] yRef = new double[ROWS][DIM];
        double[][] dRef = new double[ROWS][DIM];
        for (int r = 0; r < ROWS; r++) {
            for (int i = 0; i < DIM; i++) {
                double v = xs[r][i];
                double cdf = 0.5 * (1 + Erf.erf(v / Math.sqrt(2)));
                yRef[r][i] = v * cdf;
                dRef[r][i] = gs[r][i] * (cdf + v * Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI));
            }
        }
        INDArray y = Nd4j.create(DataType.FLOAT, ROWS, DIM);
        RowKernels.geluFloat(x, y);
        Parity.assertClose("rowkernels", "gelu", fromRows(yRef, DataType.DOUBLE), y.castTo(DataType.DOUBLE), 1e-6,
                1e-6);
        RowKernels.geluBackwardFloat(x, g, g);
        Parity.assertClose("rowkernels", "gelu_bp", fromRows(dRef, DataType.DOUBLE), g.castTo(DataType.DOUBLE), 1e-6,
                1e-6);
    }

    @Test
    void floatExpOfNonPositiveArguments() {
        java.util.Random r = new java.util.Random(11);
        int n = 5000;
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            z[i] = (float) (-r.nextDouble() * (i % 2 == 0 ? 100 : 2));
        }
        float[] special = {0f, -0f, -1e-30f, -0.5f * 0.6931472f, -0.6931472f, -87f, -86.99f, -88f, -103.9f, -104.1f, -1e4f,
            Float.NEGATIVE_INFINITY};
        System.arraycopy(special, 0, z, 0, special.length);
        float[] e = z.clone();
        RowKernels.expNegBlock(e, new float[n], n);
        for (int i = 0; i < n; i++) {
            double ref = Math.exp(z[i]);
            double err = Math.abs(e[i] - ref);
            // relative 2e-7 in the normal float range, an absolute 2e-38 below it
            assertTrue(ref > 1.2e-38 ? err <= 2e-7 * ref : err <= 2e-38,
                    "exp(" + z[i] + ") = " + ref + ", got " + e[i]);
        }
    }

    @Test
    void biasAddAndColumnSums() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            INDArray m = offsetRows(9, ROWS, DIM, type);
            INDArray bias = TestData.randn(10, DIM).castTo(type);
            INDArray expected = m.castTo(DataType.DOUBLE).addRowVector(bias.castTo(DataType.DOUBLE));
            INDArray sums = Nd4j.ones(type, DIM);
            INDArray expectedSums = m.castTo(DataType.DOUBLE).sum(0).addi(1.0);
            RowKernels.addColumnSums(m, sums);
            RowKernels.addRowVector(m, bias);
            double tol = type == DataType.FLOAT ? 1e-5 : 1e-12;
            Parity.assertClose("rowkernels " + type, "add_row", expected, m.castTo(DataType.DOUBLE), tol, tol);
            Parity.assertClose("rowkernels " + type, "column_sums", expectedSums, sums.castTo(DataType.DOUBLE), tol,
                    tol);
        }
    }

    @Test
    void stridedArraysAreRejected() {
        INDArray m = Nd4j.create(DataType.FLOAT, 4, 6);
        INDArray cols = m.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 3));
        assertFalse(RowKernels.isDense(cols));
        assertTrue(RowKernels.isDense(m.reshape('c', 2, 12)));
        assertThrows(IllegalArgumentException.class, () -> new RowKernels.Buf(cols));
        assertThrows(IllegalArgumentException.class, () -> new RowKernels.Buf(Nd4j.create(DataType.INT, 3)));
    }
}
