package io.hgkd.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.GradCheck;
import io.hgkd.core.testing.Parity;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class BinaryCrossEntropyLossTest {

    @Test
    void matchesPyTorchBceWithLogits() {
        Fixtures.Case c = new Fixtures.Case("finetune/bce", Fixtures.load("finetune/bce.npz"));
        BinaryCrossEntropyLoss bce = new BinaryCrossEntropyLoss();
        double y = bce.forward(c.get("x"), c.get("t"));
        Parity.forward("finetune_bce", "y", c.get("y"), Nd4j.create(new float[] {(float) y}, new long[] {1}));
        Parity.gradient("finetune_bce", "gx", c.get("gx"), bce.backward());
    }

    @Test
    void finiteDifferences() {
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 3, 4).muli(4); // large logits exercise the stable form
        INDArray t = Nd4j.rand(DataType.DOUBLE, 3, 4);
        BinaryCrossEntropyLoss bce = new BinaryCrossEntropyLoss();
        bce.forward(x, t);
        INDArray g = bce.backward();
        double worst = GradCheck.checkScalar("finetune_bce", x, g, xx -> new BinaryCrossEntropyLoss().forward(xx, t));
        assertTrue(worst < GradCheck.MAX_REL_ERROR, "worst relative error " + worst);
    }

    @Test
    void knownValuesAndStability() {
        BinaryCrossEntropyLoss bce = new BinaryCrossEntropyLoss();
        // logit 0: log 2 whatever the target
        assertEquals(Math.log(2), bce.forward(Nd4j.zeros(DataType.DOUBLE, 2, 3), Nd4j.rand(DataType.DOUBLE, 2, 3)),
                1e-12);
        // huge logits with matching targets: loss ~ 0 and finite (no exp overflow)
        INDArray x = Nd4j.createFromArray(new double[][] {{1000, -1000}});
        INDArray t = Nd4j.createFromArray(new double[][] {{1, 0}});
        assertEquals(0.0, bce.forward(x, t), 1e-12);
        // and mismatching: loss 1000 per element
        assertEquals(1000.0, bce.forward(x, Nd4j.createFromArray(new double[][] {{0, 1}})), 1e-9);
    }

    @Test
    void rejectsBadInput() {
        BinaryCrossEntropyLoss bce = new BinaryCrossEntropyLoss();
        assertThrows(IllegalStateException.class, bce::backward);
        assertThrows(IllegalArgumentException.class,
                () -> bce.forward(Nd4j.zeros(2, 3), Nd4j.zeros(3, 2)));
        assertThrows(IllegalArgumentException.class,
                () -> bce.forward(Nd4j.zeros(2, 3), Nd4j.ones(2, 3).muli(1.5)));
    }
}
