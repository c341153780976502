package io.hgkd.core.nn;

import io.hgkd.core.testing.ParityRunner;
import org.junit.jupiter.api.Test;

/**
 * Every layer against PyTorch (fixtures from {@code tools/reference/make_layer_fixtures.py}): forward output, input
 * gradient, parameter gradients and BN buffers, with the tolerances of {@link io.hgkd.core.testing.Parity}.
 */
class LayerParityTest {
    @Test
    void conv2dK3S1P1Bias() {
        ParityRunner.run("conv2d_k3s1p1_bias", new Conv2d(4, 6, 3, 1, 1, true));
    }

    @Test
    void conv2dK3S2P1NoBias() {
        ParityRunner.run("conv2d_k3s2p1_nobias", new Conv2d(4, 8, 3, 2, 1, false));
    }

    @Test
    void conv2dK1() {
        Conv2dPaths.on(Conv2dPaths.Path.ONEDNN, () -> ParityRunner.run("conv2d_k1s1p0", new Conv2d(6, 5, 1, 1, 0, true)));
    }

    @Test
    void conv2dK1AsBatchedGemm() {
        Conv2dPaths.on(Conv2dPaths.Path.BATCHED_GEMM,
                () -> ParityRunner.run("conv2d_k1s1p0", new Conv2d(6, 5, 1, 1, 0, true)));
    }

    @Test
    void conv2dK1AsGemm() {
        // the fixture's plane is small: send it down the per-image GEMM path
        Conv2dPaths.on(Conv2dPaths.Path.PER_IMAGE_GEMM,
                () -> ParityRunner.run("conv2d_k1s1p0", new Conv2d(6, 5, 1, 1, 0, true)));
    }

    @Test
    void conv2dStem7x7() {
        ParityRunner.run("conv2d_k7s2p3", new Conv2d(3, 8, 7, 2, 3, false));
    }

    @Test
    void conv2dDilation2() {
        ParityRunner.run("conv2d_dil2", new Conv2d(4, 4, 3, 1, 2, 2, 1, true));
    }

    @Test
    void conv2dGroups2() {
        ParityRunner.run("conv2d_groups2", new Conv2d(4, 6, 3, 1, 1, 1, 2, true));
    }

    @Test
    void conv2dPatchEmbedK4S4() {
        ParityRunner.run("conv2d_k4s4", new Conv2d(3, 6, 4, 4, 0, true));
    }

    @Test
    void convTransposeK4S2P1() {
        ParityRunner.run("convt_k4s2p1", new ConvTranspose2d(6, 4, 4, 2, 1, true));
    }

    @Test
    void convTransposeK2S2P0() {
        ParityRunner.run("convt_k2s2p0", new ConvTranspose2d(4, 3, 2, 2, 0, false));
    }

    @Test
    void convTransposeK3S1P1() {
        ParityRunner.run("convt_k3s1p1", new ConvTranspose2d(3, 5, 3, 1, 1, true));
    }

    @Test
    void batchNormTrain() {
        ParityRunner.run("bn2d_train", new BatchNorm2d(5));
    }

    @Test
    void batchNormEval() {
        ParityRunner.run("bn2d_eval", new BatchNorm2d(5).eval());
    }

    @Test
    void layerNorm() {
        ParityRunner.run("layernorm", new LayerNorm(8));
    }

    @Test
    void linear3d() {
        ParityRunner.run("linear_3d", new Linear(8, 6));
    }

    @Test
    void linear2dNoBias() {
        ParityRunner.run("linear_2d_nobias", new Linear(8, 3, false));
    }

    @Test
    void relu() {
        ParityRunner.run("relu", new ReLU());
    }

    @Test
    void relu6() {
        ParityRunner.run("relu6", new ReLU6());
    }

    @Test
    void gelu() {
        ParityRunner.run("gelu", new GELU());
    }

    @Test
    void softmax() {
        ParityRunner.run("softmax", new Softmax());
    }

    @Test
    void maxPoolK3S2P1() {
        ParityRunner.run("maxpool2d_k3s2p1", new MaxPool2d(3, 2, 1));
    }

    @Test
    void maxPoolK2S2P0() {
        ParityRunner.run("maxpool2d_k2s2p0", new MaxPool2d(2, 2, 0));
    }

    @Test
    void globalAvgPool() {
        ParityRunner.run("global_avgpool", new GlobalAvgPool2d());
    }

    @Test
    void upsampleNearest() {
        ParityRunner.run("upsample_nearest2", new UpsampleNearest2d(2));
    }
}
