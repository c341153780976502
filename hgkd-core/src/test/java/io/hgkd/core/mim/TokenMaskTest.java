package io.hgkd.core.mim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class TokenMaskTest {

    @Test
    void p16IsExactTwoByTwoReplication() {
        Fixtures.Case c = Fixtures.parity("mask_tokens_p16");
        TokenMask tm = new TokenMask(224, 16);
        assertEquals(14, tm.gridSize());
        ActiveMask mask = ActiveMask.of(c.get("mask"));
        Parity.exact("mask_tokens_p16", "tokens", c.get("tokens"), tm.visible(mask));
        Parity.exact("mask_tokens_p16", "masked", c.get("tokens").rsub(1.0).reshape(2, 196), tm.masked(mask));
    }

    @Test
    void p14FollowsTokenCentres() {
        Fixtures.Case c = Fixtures.parity("mask_tokens_p14");
        TokenMask tm = new TokenMask(224, 14);
        assertEquals(16, tm.gridSize());
        ActiveMask mask = ActiveMask.of(c.get("mask"));
        Parity.exact("mask_tokens_p14", "tokens", c.get("tokens"), tm.visible(mask));
        INDArray masked = tm.masked(mask, DataType.DOUBLE);
        assertEquals(DataType.DOUBLE, masked.dataType());
        Parity.exact("mask_tokens_p14", "masked", c.get("tokens").rsub(1.0).reshape(2, 256), masked);
    }

    @Test
    void oddPatchUsesExactCentre() {
        // compare with the real-valued centre pixel r*Pt + Pt/2 for odd and even patch sizes
        int[][] cases = {{224, 7, 7}, {40, 5, 5}, {45, 3, 5}, {224, 14, 7}, {224, 16, 7}, {96, 3, 4}};
        for (int[] k : cases) {
            int image = k[0], pt = k[1], grid = k[2];
            int[] idx = new TokenMask(image, pt).cellIndex(grid);
            double cell = (double) image / grid;
            assertEquals(image / pt, idx.length);
            for (int r = 0; r < idx.length; r++) {
                assertEquals((int) Math.floor((r * pt + pt / 2.0) / cell), idx[r],
                        "image " + image + ", Pt " + pt + ", grid " + grid + ", token " + r);
            }
        }
        // Pt=5 on 40 px with 8 px cells: centres 2.5, 7.5, 12.5, ... fall in cells 0, 0, 1, 2, 2, 3, 4, 4
        assertArrayEquals(new int[] {0, 0, 1, 2, 2, 3, 4, 4}, new TokenMask(40, 5).cellIndex(5));
    }

    @Test
    void validation() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TokenMask(224, 15));
        assertTrue(e.getMessage().contains("224") && e.getMessage().contains("15"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TokenMask(0, 16));
        assertThrows(IllegalArgumentException.class, () -> new TokenMask(224, 0));
        TokenMask tm = new TokenMask(224, 16);
        e = assertThrows(IllegalArgumentException.class, () -> tm.visible(ActiveMask.allActive(1, 6, 6)));
        assertTrue(e.getMessage().contains("mask grid 6"), e.getMessage());
    }
}
