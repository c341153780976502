package io.hgkd.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Java's DetRandom reproduces tools/reference/detrandom.py bit for bit (values written by the Python side). */
class DetRandomTest {
    @Test
    void matchesPython() {
        Fixtures.Case c = Fixtures.parity("detrandom");
        INDArray a = DetRandom.uniform("layer1.0.conv1.weight", 0, -0.5, 0.5, 4, 3, 3, 3);
        INDArray b = DetRandom.uniform("blocks.0.attn.qkv.bias", 7, 0.5, 1.5, 13);
        Parity.exact("detrandom", "layer1.0.conv1.weight", c.get("a"), a);
        Parity.exact("detrandom", "blocks.0.attn.qkv.bias(salt 7)", c.get("b"), b);
        assertEquals(c.get("a").dataType(), a.dataType());
    }
}
