package io.hgkd.models.vit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import io.hgkd.core.testing.TestData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * MAE's sin-cos tables and {@code interpolate_pos_embed} (F.interpolate bicubic, align_corners=False) against the
 * reference script's numpy/PyTorch values.
 */
class PosEmbedTest {
    private static final Fixtures.Case C = ModelFixtures.load("posembed");

    @Test
    void sinCosTablesMatchMae() {
        Parity.forward("posembed", "sincos_d64_g8_cls", C.get("sincos_d64_g8_cls"), PosEmbed.sincos2d(64, 8, true));
        Parity.forward("posembed", "sincos_d192_g14_cls", C.get("sincos_d192_g14_cls"),
                PosEmbed.sincos2d(192, 14, true));
        Parity.forward("posembed", "sincos_d16_g3x5", C.get("sincos_d16_g3x5"), PosEmbed.sincos2d(16, 3, 5, false));
    }

    @Test
    void sinCosLayoutFirstHalfEncodesTheColumn() {
        INDArray pe = PosEmbed.sincos2d(8, 3, 4, true);
        assertEquals(0.0, pe.getRow(0).amaxNumber().doubleValue(), "cls row is zero");
        // token (r=2, c=1) is row 1 + 2*4 + 1; omega = [1, 1e-2]
        INDArray t = pe.getRow(1 + 2 * 4 + 1);
        assertEquals(Math.sin(1.0), t.getDouble(0), 1e-7);
        assertEquals(Math.sin(0.01), t.getDouble(1), 1e-7);
        assertEquals(Math.cos(1.0), t.getDouble(2), 1e-7);
        assertEquals(Math.sin(2.0), t.getDouble(4), 1e-7);
        assertEquals(Math.cos(0.02), t.getDouble(7), 1e-7);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PosEmbed.sincos2d(6, 2, true));
        assertTrue(e.getMessage().contains("divisible by 4"), e.getMessage());
    }

    private static void resample(String key, int prefix, int[] oldGrid, int[] newGrid) {
        INDArray out = PosEmbed.resample(C.get(key + "_in"), prefix, oldGrid, newGrid);
        Parity.forward("posembed", key, C.get(key + "_out"), out);
    }

    @Test
    void bicubicResamplingMatchesTorchInterpolate() {
        resample("resample_4x4_7x7", 1, new int[] {4, 4}, new int[] {7, 7});
        resample("resample_14x14_8x8", 1, new int[] {14, 14}, new int[] {8, 8});
        resample("resample_4x6_5x3", 0, new int[] {4, 6}, new int[] {5, 3});
        resample("resample_2x2_5x5", 1, new int[] {2, 2}, new int[] {5, 5});
        // square convenience overload infers the old grid
        Parity.forward("posembed", "resample_14x14_8x8(square)", C.get("resample_14x14_8x8_out"),
                PosEmbed.resample(C.get("resample_14x14_8x8_in"), 1, 8));
    }

    @Test
    void resamplingKeepsPrefixRowsIdentityAndRank() {
        INDArray pe = TestData.randn(5, 1, 1 + 9, 4).castTo(DataType.FLOAT);
        INDArray same = PosEmbed.resample(pe, 1, new int[] {3, 3}, new int[] {3, 3});
        Parity.forward("posembed", "identity_3x3", pe, same);
        INDArray up = PosEmbed.resample(pe.reshape(10, 4), 1, new int[] {3, 3}, new int[] {6, 6});
        assertArrayEquals(new long[] {37, 4}, up.shape());
        assertEquals(pe.reshape(10, 4).getRow(0), up.getRow(0), "the cls row is kept");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PosEmbed.resample(pe, 1, new int[] {4, 4}, new int[] {2, 2}));
        assertTrue(e.getMessage().contains("4x4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PosEmbed.resample(pe, 2, 4));
        assertTrue(e.getMessage().contains("square"), e.getMessage());
    }
}
