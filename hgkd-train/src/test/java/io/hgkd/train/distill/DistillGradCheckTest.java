package io.hgkd.train.distill;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.GradCheck;
import io.hgkd.core.testing.TestData;
import io.hgkd.train.distill.DistillConfig.FeatureLossKind;
import io.hgkd.train.distill.DistillConfig.Positions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Double-precision central differences against the hand-written backward passes. */
class DistillGradCheckTest {
    private static final int B = 2, D = 6, G = 3, N = G * G;

    private static INDArray masked() {
        INDArray m = Nd4j.zeros(DataType.DOUBLE, B, N);
        for (int i = 0; i < B * N; i++) {
            if (i % 3 != 1) {
                m.putScalar(i, 1.0);
            }
        }
        return m;
    }

    @ParameterizedTest
    @CsvSource({"MSE,MASKED", "MSE,ALL", "SMOOTH_L1,MASKED", "SMOOTH_L1,ALL", "COSINE,MASKED", "COSINE,ALL"})
    void featureLoss(FeatureLossKind kind, Positions pos) {
        INDArray s = TestData.randn(1, B, D, G, G).muli(1.5);
        INDArray t = TestData.randn(2, B, N, D);
        if (kind == FeatureLossKind.SMOOTH_L1) {
            // keep |S - T| away from the kink at 1, where the derivative jumps
            INDArray diff = TestData.randn(3, B, D, G, G);
            for (long i = 0; i < diff.length(); i++) {
                double v = diff.getDouble(i);
                if (Math.abs(Math.abs(v) - 1) < 1e-3) {
                    diff.putScalar(i, v * 1.1);
                }
            }
            s = t.permute(0, 2, 1).dup('c').reshape(B, D, G, G).add(diff);
        }
        INDArray m = masked();
        FeatureLoss loss = new FeatureLoss(kind, pos);
        loss.forward(s, t, m);
        INDArray g = loss.backward();
        assertTrue(g.dataType() == DataType.DOUBLE);
        double err = GradCheck.checkScalar("distill.FeatureLoss." + kind + "." + pos, s, g,
                x -> new FeatureLoss(kind, pos).forward(x, t, m));
        assertTrue(err < GradCheck.MAX_REL_ERROR);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.5})
    void similarityLoss(double tau) {
        INDArray s = TestData.randn(4, B, D, G, G);
        INDArray zt = TeacherTargets.l2normalize(TestData.randn(5, B, D));
        EmbeddingQueue q = new EmbeddingQueue(10, D, 6, DataType.DOUBLE);
        SimilarityLoss loss = new SimilarityLoss(q, tau);
        loss.forward(s, zt);
        INDArray g = loss.backward();
        GradCheck.checkScalar("distill.SimilarityLoss.tau" + tau, s, g, x -> loss.forward(x, zt));
    }

    @Test
    void similarityLossGradientIsNotZero() {
        // guards against a backward that returns zeros (which a finite-difference check on a flat loss would pass)
        INDArray s = TestData.randn(7, B, D, G, G);
        INDArray zt = TeacherTargets.l2normalize(TestData.randn(8, B, D));
        SimilarityLoss loss = new SimilarityLoss(new EmbeddingQueue(10, D, 9, DataType.DOUBLE), 0);
        double l = loss.forward(s, zt);
        assertTrue(l > 0 && l < 2, "1 - Pearson lies in [0, 2], got " + l);
        assertTrue(loss.backward().norm2Number().doubleValue() > 1e-6);
    }
}
