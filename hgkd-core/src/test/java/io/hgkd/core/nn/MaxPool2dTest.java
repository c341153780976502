package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The semantics {@link MaxPool2d} documents (PyTorch's CPU kernel): the first maximum in scan order wins a tie and
 * receives the gradient, a NaN wins and stays, padding never wins; the FLOAT and DOUBLE kernels agree exactly.
 */
class MaxPool2dTest {
    @Test
    void tiesGoToTheFirstMaximumAndANanWins() {
        // one 4x4 plane, k2 s2: windows {1,1,0,1}, {NaN,5,9,2}, {-inf x4}, {3,3,3,3}
        float ninf = Float.NEGATIVE_INFINITY;
        float[] plane = {
            1, 1, Float.NaN, 5,
            0, 1, 9, 2,
            ninf, ninf, 3, 3,
            ninf, ninf, 3, 3};
        for (DataType t : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            MaxPool2d pool = new MaxPool2d(2, 2, 0);
            INDArray y = pool.forward(Nd4j.create(plane, new long[] {1, 1, 4, 4}, 'c').castTo(t));
            assertEquals(1.0, y.getDouble(0, 0, 0, 0), t.toString());
            assertTrue(Double.isNaN(y.getDouble(0, 0, 0, 1)), t + ": a NaN wins over a later 9");
            assertEquals(ninf, y.getDouble(0, 0, 1, 0), t.toString());
            assertEquals(3.0, y.getDouble(0, 0, 1, 1), t.toString());
            INDArray dx = pool.backward(Nd4j.create(new float[] {10, 20, 30, 40}, new long[] {1, 1, 2, 2}, 'c')
                    .castTo(t));
            double[] expected = {
                10, 0, 20, 0,
                0, 0, 0, 0,
                30, 0, 40, 0,
                0, 0, 0, 0};
            assertArrayEquals(expected, dx.reshape(16).toDoubleVector(), t + ": gradient at the first maximum");
        }
    }

    @Test
    void floatAndDoubleKernelsAgreeWithOverlappingWindowsAndPadding() {
        // values from a small set, so that windows hold ties; k3 s2 p1 overlaps windows, so backward sums
        Random r = new Random(7);
        int n = 2 * 3 * 9 * 9;
        float[] v = new float[n];
        float[] g = new float[2 * 3 * 5 * 5];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(5) - 2;
        }
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) r.nextGaussian();
        }
        MaxPool2d pf = new MaxPool2d(3, 2, 1);
        MaxPool2d pd = new MaxPool2d(3, 2, 1);
        INDArray x = Nd4j.create(v, new long[] {2, 3, 9, 9}, 'c');
        INDArray yf = pf.forward(x);
        INDArray yd = pd.forward(x.castTo(DataType.DOUBLE));
        assertArrayEquals(yd.reshape(yd.length()).toDoubleVector(), yf.reshape(yf.length()).toDoubleVector());
        INDArray gy = Nd4j.create(g, new long[] {2, 3, 5, 5}, 'c');
        INDArray df = pf.backward(gy);
        INDArray dd = pd.backward(gy.castTo(DataType.DOUBLE));
        // at most four windows meet at an input, so float sums of float gradients round like the double ones
        assertArrayEquals(dd.reshape(dd.length()).toDoubleVector(), df.reshape(df.length()).toDoubleVector(), 1e-6);
        assertEquals(gy.sumNumber().doubleValue(), df.sumNumber().doubleValue(), 1e-4, "every gradient lands once");
    }
}
