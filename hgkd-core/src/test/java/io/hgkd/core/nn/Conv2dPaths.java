package io.hgkd.core.nn;

import java.util.function.Supplier;

/** Runs test code with {@link Conv2d}'s 1x1 convolutions on a chosen path, restoring the thresholds afterwards. */
final class Conv2dPaths {
    /** The three ways a 1x1 stride-1 convolution can run, as (gemmMinPlane, batchedMaxPlane). */
    enum Path {
        /** libnd4j's conv2d / conv2d_bp. */
        ONEDNN(Integer.MAX_VALUE, 0),
        /** One GEMM per image on the NCHW layout. */
        PER_IMAGE_GEMM(1, 0),
        /** One GEMM over the batch on channel-major copies. */
        BATCHED_GEMM(Integer.MAX_VALUE, Integer.MAX_VALUE);

        final int gemmMinPlane;
        final int batchedMaxPlane;

        Path(int gemmMinPlane, int batchedMaxPlane) {
            this.gemmMinPlane = gemmMinPlane;
            this.batchedMaxPlane = batchedMaxPlane;
        }
    }

    private Conv2dPaths() {
    }

    static <T> T on(Path path, Supplier<T> body) {
        int keepMin = Conv2d.gemmMinPlane;
        int keepMax = Conv2d.batchedMaxPlane;
        Conv2d.gemmMinPlane = path.gemmMinPlane;
        Conv2d.batchedMaxPlane = path.batchedMaxPlane;
        try {
            return body.get();
        } finally {
            Conv2d.gemmMinPlane = keepMin;
            Conv2d.batchedMaxPlane = keepMax;
        }
    }

    static void on(Path path, Runnable body) {
        on(path, () -> {
            body.run();
            return null;
        });
    }
}
