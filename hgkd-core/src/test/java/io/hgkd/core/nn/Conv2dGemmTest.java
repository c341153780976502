package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.TestData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The GEMM paths of 1x1 convolutions (per image on planes of at least {@link Conv2d#gemmMinPlane}, batched below
 * {@link Conv2d#batchedMaxPlane}; strided ones on a subsampled input) against libnd4j's conv2d / conv2d_bp on the same
 * weights, at ResNet-like sizes; PyTorch parity and finite differences of the paths are in {@link LayerParityTest}
 * and {@link GradCheckTest}.
 */
class Conv2dGemmTest {
    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double scale = expected.amaxNumber().doubleValue();
        double err = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(err <= 1e-5 * scale + 1e-6, what + ": max abs error " + err + " at scale " + scale);
    }

    /** With {@code batched}, the batched path on a 14x14 plane, else the per-image path on 28x28. */
    private static void compare(boolean bias, boolean batched) {
        int h = batched ? 14 : 28;
        compare(bias, batched, 1, h, h);
    }

    /** A 1x1 convolution with {@code stride} on an (h, w) input, on the chosen GEMM path and on conv2d. */
    private static void compare(boolean bias, boolean batched, int stride, int h, int w) {
        Conv2d gemm = new Conv2d(16, 24, 1, stride, 0, bias);
        Conv2d ref = new Conv2d(16, 24, 1, stride, 0, bias);
        ref.loadStateDict(gemm.stateDict(), true);
        INDArray x = TestData.randn(3, 2, 16, h, w).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        INDArray g = TestData.randn(4, 2, 24, gemm.outSize(h), gemm.outSize(w))
                .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        INDArray[] got = Conv2dPaths.on(batched ? Conv2dPaths.Path.BATCHED_GEMM : Conv2dPaths.Path.PER_IMAGE_GEMM,
                () -> twoSteps(gemm, x, g));
        INDArray[] want = Conv2dPaths.on(Conv2dPaths.Path.ONEDNN, () -> twoSteps(ref, x, g));
        assertClose(want[0], got[0], "output");
        assertClose(want[1], got[1], "input gradient");
        assertClose(ref.weight().grad(), gemm.weight().grad(), "weight gradient");
        if (bias) {
            assertClose(ref.bias().grad(), gemm.bias().grad(), "bias gradient");
        }
    }

    /** Output and input gradient of a first step, then a second step whose backward accumulates, as conv2d_bp's. */
    private static INDArray[] twoSteps(Conv2d conv, INDArray x, INDArray g) {
        INDArray y = conv.forward(x).dup();
        INDArray gx = conv.backward(g).dup();
        conv.forward(x);
        conv.backward(g);
        return new INDArray[] {y, gx};
    }

    @Test
    void matchesConv2dWithoutBias() {
        compare(false, false);
    }

    @Test
    void matchesConv2dWithBias() {
        compare(true, false);
    }

    @Test
    void batchedMatchesConv2dWithoutBias() {
        compare(false, true);
    }

    @Test
    void batchedMatchesConv2dWithBias() {
        compare(true, true);
    }

    @Test
    void stridedMatchesConv2dOnBothPaths() {
        // even and odd sizes (an odd size keeps its last row and column), stride 2 and 3, with and without bias
        for (boolean batched : new boolean[] {false, true}) {
            compare(false, batched, 2, 28, 28);
            compare(true, batched, 2, 15, 9);
            compare(false, batched, 3, 10, 11);
        }
    }

    @Test
    void frozenWeightGetsNoGradient() {
        for (int h : new int[] {28, 14}) { // per-image and batched path
            Conv2d conv = new Conv2d(8, 4, 1, 1, 0, false);
            conv.weight().setRequiresGrad(false);
            INDArray x = TestData.randn(5, 1, 8, h, h).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
            INDArray y = conv.forward(x);
            INDArray gx = conv.backward(y.dup());
            assertFalse(conv.weight().hasGrad());
            assertArrayEquals(x.shape(), gx.shape());
        }
    }
}
