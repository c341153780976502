package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.io.SafeTensors;
import io.hgkd.models.vit.VitConfig;
import io.hgkd.train.loop.EpochEvent;
import io.hgkd.train.loop.RunSummary;
import io.hgkd.train.loop.TrainingListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * ViT fine-tuning on a labelled subset and the ViT linear probe, on the separable synthetic task (4 classes, chance
 * 0.25): both must learn it, the fine-tuned encoder must export into the distillation teacher's layout, and the
 * probe must not learn shuffled labels.
 */
class VitFinetuneAndProbeTest {

    /** 16 px, patch 4 (16 tokens), width 16, one block; MAE init with a sin-cos table, as the teacher. */
    static VitConfig vit() {
        return VitConfig.vitTinyPatch16().withImgSize(16, 4).withEmbedDim(16, 2).withDepth(1).withNumClasses(0)
                .withPosEmbed(VitConfig.PosEmbedType.SINCOS).withInit(VitConfig.InitMode.MAE);
    }

    static DataConfig data() {
        return DataConfig.synthetic(256, 16, 4, 16);
    }

    static TrainerConfig adamw(int epochs) {
        return new TrainerConfig(epochs, TrainerConfig.OptimizerKind.ADAMW, 0.1, 0.05, 0.05, 1, 0, 1, 2, 1, 1, 1);
    }

    @Test
    void fineTuningOnHalfTheLabelsLearnsAndExportsATeacher(@TempDir Path dir) throws Exception {
        VitFinetuneJobConfig c = new VitFinetuneJobConfig(3, vit(), null, 0.1, 0.75, data().withLabels(0.5, 1));
        List<Double> losses = new ArrayList<>();
        RunSummary s;
        try (VitFinetuneJob job = new VitFinetuneJob(c)) {
            int labelled = c.data().train().size();
            assertTrue(Math.abs(labelled - 128) <= 2, "half of 256 labels, rounded per class: " + labelled);
            assertEquals(labelled / 16, job.batchesPerEpoch());
            assertTrue(job.paramGroups().size() > 2, "layer decay splits the groups");
            s = new Trainer(job, adamw(5), dir.resolve("run"), new TrainingListener() {
                @Override
                public void onEpochEnd(EpochEvent e) {
                    losses.add(e.meanLosses().get("loss"));
                }
            }).fit();
        }
        assertEquals(RunSummary.Status.COMPLETED, s.status());
        assertTrue(losses.get(4) < 0.8 * losses.get(0), losses.toString());
        assertTrue(s.finalMetrics().get("top1") > 0.6, s.finalMetrics() + " (chance 0.25)");

        Path out = dir.resolve("teacher.safetensors");
        Path ckpt = new io.hgkd.train.checkpoint.CheckpointManager(dir.resolve("run/checkpoints"), 2, null).latest()
                .orElseThrow();
        Map<String, INDArray> enc = Exports.vitEncoder(ckpt, out);
        assertTrue(enc.keySet().stream().noneMatch(k -> k.startsWith("head") || k.startsWith("encoder.")), enc.keySet()
                .toString());
        // the distillation teacher loads it completely, and the probe sees the fine-tuned features
        var teacher = new io.hgkd.models.vit.VisionTransformer(vit());
        assertTrue(teacher.loadStateDict(SafeTensors.read(out), true).isClean());
        VitProbe.Result fine = VitProbe.run(new VitProbeConfig(1, vit(), out.toString(), 10, 1, 0.1, 16, true,
                data()));
        assertTrue(fine.top1() > 0.6, "probe of the fine-tuned encoder: " + fine);
        assertThrows(IllegalArgumentException.class, () -> Exports.maeTeacher(ckpt, dir.resolve("x.safetensors")),
                "kind checked");
    }

    @Test
    void resumeIsExact(@TempDir Path tmp) throws Exception {
        VitFinetuneJobConfig c = new VitFinetuneJobConfig(5, vit(), null, 0.1, 0.75, DataConfig.synthetic(64, 16, 4,
                16).withLabels(0.5, 2));
        Map<String, INDArray> model;
        Map<String, INDArray> optim;
        Map<String, Double> metrics;
        try (VitFinetuneJob job = new VitFinetuneJob(c)) {
            Trainer t = new Trainer(job, adamw(2), tmp.resolve("a"), null);
            metrics = t.fit().finalMetrics();
            model = job.model().stateDict();
            optim = t.optimizer().state();
        }
        try (VitFinetuneJob job = new VitFinetuneJob(c)) {
            TinyRuns.fitFirstEpoch(job, adamw(2), tmp.resolve("b"));
        }
        try (VitFinetuneJob job = new VitFinetuneJob(c)) {
            Trainer t = new Trainer(job, adamw(2), tmp.resolve("b"), null);
            assertEquals(metrics, t.resume().finalMetrics());
            TinyRuns.assertSameTensors(model, job.model().stateDict(), "model");
            TinyRuns.assertSameTensors(optim, t.optimizer().state(), "optimizer");
        }
    }

    @Test
    void probeOfARandomViTBeatsChanceOnSeparableData() throws Exception {
        VitProbe.Result r = VitProbe.run(new VitProbeConfig(2, vit(), null, 15, 1, 0.1, 16, true,
                data().withLabels(0.5, 4)));
        assertEquals(data().withLabels(0.5, 4).train().size(), r.trainSize());
        assertEquals(64, r.evalSize());
        assertEquals(16, r.featureDim());
        assertEquals(15, r.epochLosses().size());
        assertTrue(r.top1() > 0.6, r + " (chance 0.25)");
        assertTrue(r.epochLosses().get(14) < r.epochLosses().get(0), r.epochLosses().toString());
    }

    @Test
    void probeFeaturesAreTheMeanPooledFinalPatchTokens() throws Exception {
        VitProbeConfig c = new VitProbeConfig(2, vit(), null, 1, 0, 0.1, 16, true, data());
        var vit = VitProbe.encoder(c);
        VitProbe.Features f = VitProbe.features(vit, c.data(), c.data().eval(), 0, "eval");
        assertEquals(64, f.y().length);
        io.hgkd.train.data.Batch b;
        try (var loader = c.data().loader(c.data().eval(), 0, false)) {
            b = loader.epoch(0).next();
        }
        var plain = new io.hgkd.models.vit.VisionTransformer(c.encoder());
        plain.eval();
        INDArray tokens = plain.forwardTokens(b.images());
        INDArray manual = tokens.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 17), org.nd4j.linalg.indexing.NDArrayIndex.all())
                .mean(1);
        INDArray first = f.x().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 16),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        assertTrue(manual.equalsWithEps(first, 1e-5), "class token left out, final norm applied");
        assertEquals(b.labels()[3], f.y()[3]);
    }

    @Test
    void badWeightsAndConfigsAreRefused(@TempDir Path dir) throws Exception {
        Path w = dir.resolve("w.safetensors");
        SafeTensors.write(w, Map.of("cls_token", org.nd4j.linalg.factory.Nd4j.zeros(1, 1, 16)), Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VitProbe.run(new VitProbeConfig(2, vit(), w.toString(), 2, 0, 0.1, 16, true, data())));
        assertTrue(e.getMessage().contains("w.safetensors") && e.getMessage().contains("pos_embed"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new VitProbeConfig(2, vit().withNumClasses(4), null, 2, 0, 0.1, 16, true, data()));
        assertTrue(e.getMessage().contains("numClasses"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new VitFinetuneJobConfig(2, vit().withImgSize(32, 4), null, 0.1, 1, data()));
        assertTrue(e.getMessage().contains("32px"), e.getMessage());
    }
}
