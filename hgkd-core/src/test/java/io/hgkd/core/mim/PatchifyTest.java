package io.hgkd.core.mim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PatchifyTest {

    @Test
    void patchifyMatchesSparkLayoutExactly() {
        Fixtures.Case c = Fixtures.parity("patchify");
        INDArray patches = Patchify.patchify(c.get("x"), 32);
        Parity.exact("patchify", "patches", c.get("patches"), patches);
    }

    @Test
    void unpatchifyIsTheExactInverse() {
        Fixtures.Case c = Fixtures.parity("patchify");
        INDArray img = Patchify.unpatchify(c.get("patches"), 32, 3, 2, 2);
        Parity.exact("patchify", "unpatchify(patches)", c.get("x"), img);
    }

    @Test
    void normalisedTargetMatchesPyTorch() {
        Fixtures.Case c = Fixtures.parity("patchify");
        INDArray target = PatchNorm.DEFAULT.apply(Patchify.patchify(c.get("x"), 32));
        Parity.forward("patchify", "target", c.get("target"), target);
    }

    @Test
    void documentedFlatIndexInNonSquareDouble() {
        Nd4j.getRandom().setSeed(1);
        int p = 4, ch = 2;
        INDArray img = Nd4j.randn(DataType.DOUBLE, 3, ch, 8, 12);
        INDArray patches = Patchify.patchify(img, p);
        assertEquals(DataType.DOUBLE, patches.dataType());
        assertArrayEquals(new long[] {3, 6, p * p * ch}, patches.shape());
        int w = 12 / p;
        for (int b = 0; b < 3; b++) {
            for (int n = 0; n < 6; n++) {
                for (int py = 0; py < p; py++) {
                    for (int px = 0; px < p; px++) {
                        for (int c = 0; c < ch; c++) {
                            assertEquals(img.getDouble(b, c, (n / w) * p + py, (n % w) * p + px),
                                    patches.getDouble(b, n, (py * p + px) * ch + c));
                        }
                    }
                }
            }
        }
        assertEquals(img, Patchify.unpatchify(patches, p, ch, 2, 3));
    }

    @Test
    void patchNormUsesUnbiasedVarianceAndWorksInDouble() {
        INDArray x = Nd4j.create(new double[] {1, 2, 3, 4, 10, 10, 10, 14}, new long[] {1, 2, 4});
        INDArray y = new PatchNorm(1e-12).apply(x);
        assertEquals(DataType.DOUBLE, y.dataType());
        // row 0: mean 2.5, unbiased var 5/3
        double s = Math.sqrt(5.0 / 3.0);
        assertEquals(-1.5 / s, y.getDouble(0, 0, 0), 1e-12);
        assertEquals(1.5 / s, y.getDouble(0, 0, 3), 1e-12);
        // row 1: mean 11, unbiased var 12/3 = 4
        assertEquals(1.5, y.getDouble(0, 1, 3), 1e-12);
        assertEquals(1e-6, PatchNorm.DEFAULT.eps());
    }

    @Test
    void clearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Patchify.patchify(Nd4j.zeros(DataType.FLOAT, 1, 3, 64, 48), 32));
        assertTrue(e.getMessage().contains("64x48") && e.getMessage().contains("32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Patchify.patchify(Nd4j.zeros(DataType.FLOAT, 3, 64, 64), 32));
        assertThrows(IllegalArgumentException.class, () -> Patchify.patchify(Nd4j.zeros(DataType.FLOAT, 1, 3, 4, 4), 0));
        e = assertThrows(IllegalArgumentException.class,
                () -> Patchify.unpatchify(Nd4j.zeros(DataType.FLOAT, 2, 4, 3072), 32, 3, 2, 3));
        assertTrue(e.getMessage().contains("[2, 6, 3072]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PatchNorm(0));
        assertTrue(e.getMessage().contains("0.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PatchNorm.DEFAULT.apply(Nd4j.zeros(DataType.FLOAT, 2, 1)));
    }
}
