package io.hgkd.train.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.train.data.Batch;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ClassificationMetricsTest {

    @Test
    void handBuiltSixClassExampleOverTwoBatches() {
        ClassificationMetrics m = new ClassificationMetrics(6);
        // sample 0: label 0, predicted 0 (rank 0)
        // sample 1: label 1, predicted 5, label ranks 2nd (rank 1)
        // sample 2: label 2, label's logit is the smallest of all: rank 5, outside the top 5
        m.update(Nd4j.createFromArray(new float[][] {
            {9, 1, 2, 3, 4, 5},
            {0, 8, 1, 2, 3, 9},
            {6, 5, -1, 4, 3, 2}}), new int[] {0, 1, 2}, 1.0);
        // sample 3: label 3, logits tie with class 1 (smaller index ranks first): predicted 1, rank 1
        // sample 4: label 0, ranks 5th (rank 4): in the top 5 only
        m.update(Nd4j.createFromArray(new float[][] {
            {0, 7, 0, 7, 0, 0},
            {1, 5, 4, 3, 2, 0}}), new int[] {3, 0}, 2.5);
        assertEquals(5, m.count());
        assertEquals(1 / 5.0, m.top1(), 1e-12);
        assertEquals(3 / 5.0, m.topK(2), 1e-12);
        assertEquals(4 / 5.0, m.top5(), 1e-12);
        // loss: sample-weighted mean of batch means
        assertEquals((3 * 1.0 + 2 * 2.5) / 5, m.meanLoss(), 1e-12);
        long[][] c = m.confusion();
        assertEquals(1, c[0][0]);
        assertEquals(1, c[1][5]);
        assertEquals(1, c[2][0]);
        assertEquals(1, c[3][1]);
        assertEquals(1, c[0][1]);
        assertEquals(5, java.util.Arrays.stream(c).flatMapToLong(java.util.Arrays::stream).sum());
        double[] pc = m.perClassAccuracy();
        assertEquals(0.5, pc[0], 1e-12);
        assertEquals(0.0, pc[1], 1e-12);
        assertTrue(Double.isNaN(pc[4]));
        String table = m.toString();
        assertTrue(table.contains("top-1 20.00%") && table.contains("top-5 80.00%"), table);
        assertTrue(table.contains("confusion"), table);
        // the copy is a copy
        c[0][0] = 99;
        assertEquals(1, m.confusion()[0][0]);
    }

    @Test
    void topKIsClippedToTheNumberOfClasses() {
        ClassificationMetrics m = new ClassificationMetrics(3);
        m.update(Nd4j.createFromArray(new double[][] {{3, 2, 1}, {3, 2, 1}}), new int[] {2, 1});
        assertEquals(0.0, m.top1());
        assertEquals(1.0, m.top5(), "top-5 of 3 classes is top-3");
        assertTrue(Double.isNaN(m.meanLoss()));
    }

    @Test
    void rejectsBadInput() {
        ClassificationMetrics m = new ClassificationMetrics(3);
        assertThrows(IllegalStateException.class, m::top1);
        assertThrows(IllegalArgumentException.class, () -> m.update(Nd4j.zeros(2, 4), new int[] {0, 1}));
        assertThrows(IllegalArgumentException.class, () -> m.update(Nd4j.zeros(2, 3), new int[] {0, 3}));
        assertThrows(IllegalArgumentException.class,
                () -> m.update(Nd4j.createFromArray(new double[][] {{Double.NaN, 0, 0}}), new int[] {0}));
        assertThrows(IllegalArgumentException.class, () -> m.topK(6));
    }

    /** A 4-class ResNet-18 small enough for 16 px images. */
    private static ResNet tinyResNet() {
        return new ResNet(ResNetConfig.resnet18().withBaseWidth(4).withNumClasses(4)
                .withStem(ResNetConfig.Stem.SMALL));
    }

    /** Two labelled batches over {@code x1} (3 images, labels 0-2) and {@code x2} (2 images, label 3). */
    private static List<Batch> twoBatches(INDArray x1, INDArray x2) {
        return List.of(new Batch(x1, new int[] {0, 1, 2}, new int[] {0, 1, 2}, 0, 0),
                new Batch(x2, new int[] {3, 3}, new int[] {3, 4}, 0, 1));
    }

    @Test
    void evaluatorRunsInEvalModeAndRestoresTheMode() {
        ResNet model = tinyResNet();
        Nd4j.getRandom().setSeed(5);
        INDArray x1 = Nd4j.randn(DataType.FLOAT, 3, 3, 16, 16);
        INDArray x2 = Nd4j.randn(DataType.FLOAT, 2, 3, 16, 16);
        assertTrue(model.isTraining());
        ClassificationMetrics m = Evaluator.evaluate(model, twoBatches(x1, x2), 4);
        assertTrue(model.isTraining(), "mode restored");
        assertEquals(5, m.count());
        // the same numbers by hand, in eval mode
        model.eval();
        ClassificationMetrics byHand = new ClassificationMetrics(4);
        byHand.update(model.forward(x1).dup(), new int[] {0, 1, 2});
        byHand.update(model.forward(x2).dup(), new int[] {3, 3});
        assertArrayEquals(byHand.confusion(), m.confusion());
        assertEquals(byHand.top1(), m.top1());
        assertTrue(Double.isFinite(m.meanLoss()) && m.meanLoss() > 0);
    }

    @Test
    void evaluatorClosesTheImagesOnlyWhenAsked() {
        ResNet model = tinyResNet();
        Nd4j.getRandom().setSeed(6);
        INDArray x1 = Nd4j.randn(DataType.FLOAT, 3, 3, 16, 16);
        INDArray x2 = Nd4j.randn(DataType.FLOAT, 2, 3, 16, 16);
        ClassificationMetrics kept = Evaluator.evaluate(model, twoBatches(x1, x2), 4);
        assertTrue(!x1.wasClosed() && !x2.wasClosed(), "the 3-argument form leaves the batches alone");
        INDArray y1 = x1.dup();
        INDArray y2 = x2.dup();
        ClassificationMetrics closed = Evaluator.evaluate(model, twoBatches(y1, y2), 4, true);
        assertTrue(y1.wasClosed() && y2.wasClosed(), "closeImages closes every batch's images");
        assertArrayEquals(kept.confusion(), closed.confusion());
        assertEquals(kept.meanLoss(), closed.meanLoss(), 0.0);
    }
}
