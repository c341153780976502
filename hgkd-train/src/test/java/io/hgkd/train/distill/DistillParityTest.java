package io.hgkd.train.distill;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import io.hgkd.train.distill.DistillConfig.FeatureLossKind;
import io.hgkd.train.distill.DistillConfig.Positions;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The distillation losses against PyTorch autograd ({@code tools/reference/make_distill_fixtures.py}), in FLOAT. */
class DistillParityTest {
    private static Fixtures.Case load(String name) {
        return new Fixtures.Case(name, Fixtures.load("distill/" + name + ".npz"));
    }

    private static void scalar(Fixtures.Case c, double actual) {
        Parity.forward(c.name(), "loss", c.get("loss"), Nd4j.scalar(c.get("loss").dataType(), actual));
    }

    @ParameterizedTest
    @CsvSource({"MSE,MASKED", "MSE,ALL", "SMOOTH_L1,MASKED", "SMOOTH_L1,ALL", "COSINE,MASKED", "COSINE,ALL"})
    void featureLoss(FeatureLossKind kind, Positions pos) {
        Fixtures.Case c = load("feat_" + kind.name().toLowerCase(Locale.ROOT) + "_" + pos.name().toLowerCase(Locale.ROOT));
        FeatureLoss loss = new FeatureLoss(kind, pos);
        double l = loss.forward(c.get("s"), c.get("t"), pos == Positions.ALL ? null : c.get("m"));
        assertTrue(l > 0, "loss must be positive, got " + l);
        scalar(c, l);
        INDArray g = loss.backward();
        Parity.gradient(c.name(), "grad_s", c.get("grad_s"), g);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sim", "sim_softmax"})
    void similarityLoss(String name) {
        Fixtures.Case c = load(name);
        EmbeddingQueue q = EmbeddingQueue.of(c.get("queue"), 0);
        SimilarityLoss loss = new SimilarityLoss(q, c.get("tau").getDouble(0));
        scalar(c, loss.forward(c.get("s"), c.get("zt")));
        Parity.gradient(c.name(), "grad_s", c.get("grad_s"), loss.backward());
    }

    @Test
    void teacherTargets() {
        Fixtures.Case c = load("targets");
        TeacherTargets norm = TeacherTargets.of(c.get("tokens"), 1, true, 1e-6);
        Parity.forward(c.name(), "target", c.get("target"), norm.tokens());
        Parity.forward(c.name(), "zt", c.get("zt"), norm.embedding());
        TeacherTargets raw = TeacherTargets.of(c.get("tokens"), 1, false, 1e-6);
        Parity.exact(c.name(), "target_raw", c.get("target_raw"), raw.tokens());
        // z_t comes from the un-normalised tokens whether or not the targets are normalised
        Parity.forward(c.name(), "zt_raw", c.get("zt"), raw.embedding());
    }

    @Test
    void pixelLoss() {
        Fixtures.Case c = load("pix");
        PixelLoss loss = new PixelLoss();
        scalar(c, loss.forward(c.get("pixels"), c.get("image"), ActiveMask.of(c.get("active"))));
        Parity.gradient(c.name(), "grad_pixels", c.get("grad_pixels"), loss.backward(1.0));
    }

    @Test
    void combinedLossIsTheWeightedSumAndGradientsScale() {
        Fixtures.Case f = load("feat_mse_masked");
        Fixtures.Case s = load("sim");
        Fixtures.Case p = load("pix");
        // the sim fixture's features and z_t with the feature fixture's targets: the terms are independent
        DistillConfig cfg = DistillConfig.defaults().withWeights(0.5, 2.0, 3.0).withQueue(16, 0);
        DistillLoss loss = new DistillLoss(cfg, EmbeddingQueue.of(s.get("queue"), 0));
        TeacherTargets t = new TeacherTargets(f.get("t"), s.get("zt"));
        DistillLoss.Result r = loss.compute(p.get("pixels"), s.get("s"), t, f.get("m"), p.get("image"),
                ActiveMask.of(p.get("active")));
        FeatureLoss fl = new FeatureLoss(FeatureLossKind.MSE, Positions.MASKED);
        double feat = fl.forward(s.get("s"), f.get("t"), f.get("m"));
        Parity.forward("combined", "sim", s.get("loss"), Nd4j.scalar(s.get("loss").dataType(), r.terms().sim()));
        Parity.forward("combined", "pix", p.get("loss"), Nd4j.scalar(p.get("loss").dataType(), r.terms().pix()));
        org.junit.jupiter.api.Assertions.assertEquals(feat, r.terms().feat(), 1e-12);
        org.junit.jupiter.api.Assertions.assertEquals(0.5 * r.terms().feat() + 2 * r.terms().sim()
                + 3 * r.terms().pix(), r.terms().total(), 1e-9);
        INDArray expectFeat = fl.backward(0.5).add(s.get("grad_s").mul(2.0));
        Parity.gradient("combined", "grad_features", expectFeat, r.gradFeatures());
        Parity.gradient("combined", "grad_pixels", p.get("grad_pixels").mul(3.0), r.gradPixels());
    }
}
