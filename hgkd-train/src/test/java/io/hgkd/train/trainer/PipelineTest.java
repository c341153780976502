package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Module;
import io.hgkd.train.loop.RunSummary;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The three stages chained through checkpoints: MAE teacher, H-GKD distillation, fine-tuning. */
class PipelineTest {

    static Map<String, INDArray> subset(Module m, Map<String, INDArray> keysOf) {
        Map<String, INDArray> all = m.stateDict();
        Map<String, INDArray> out = new LinkedHashMap<>();
        keysOf.keySet().forEach(k -> out.put(k, all.get(k)));
        return out;
    }

    @Test
    void maeTeacherThenDistillThenFinetune(@TempDir Path tmp) throws Exception {
        // 1. teacher
        Path maeDir = tmp.resolve("mae");
        try (MaePretrainJob job = new MaePretrainJob(MaeAndSparkJobTest.mae())) {
            new Trainer(job, MaeAndSparkJobTest.maeTrainer(2), maeDir, null).fit();
        }
        Path teacherFile = tmp.resolve("teacher.safetensors");
        Map<String, INDArray> teacherWeights = Exports.maeTeacher(
                maeDir.resolve("checkpoints/checkpoint-000000008"), teacherFile);

        // 2. distillation from that teacher
        DistillJobConfig t = TinyRuns.distill(5);
        DistillJobConfig c = new DistillJobConfig(t.seed(), t.teacher(), teacherFile.toString(), t.student(),
                t.loss(), t.maskRatio(), t.teacherChunk(), t.data());
        Path distillDir = tmp.resolve("distill");
        try (DistillJob job = new DistillJob(c)) {
            TinyRuns.assertSameTensors(teacherWeights, subset(job.teacher(), teacherWeights), "teacher");
            new Trainer(job, TinyRuns.trainer(2), distillDir, null).fit();
        }
        Path encoderFile = tmp.resolve("encoder.safetensors");
        Map<String, INDArray> encoder = Exports.studentEncoder(distillDir.resolve("checkpoints/checkpoint-000000008"),
                encoderFile);
        assertTrue(encoder.containsKey("conv1.weight") && encoder.containsKey("layer4.0.bn2.running_var"),
                encoder.keySet().toString());
        assertThrows(IllegalArgumentException.class, () -> Exports.maeTeacher(
                distillDir.resolve("checkpoints/checkpoint-000000008"), tmp.resolve("x.safetensors")));

        // 3. fine-tuning from the exported encoder
        FinetuneJobConfig f = new FinetuneJobConfig(3, TinyRuns.encoder(), encoderFile.toString(), null, 0.1, 0.8, 0, null,
                DataConfig.fashionMnistEmbedded(32, 8));
        try (FinetuneJob job = new FinetuneJob(f)) {
            TinyRuns.assertSameTensors(encoder, subset(job.model(), encoder), "fine-tuning start");
            RunSummary s = new Trainer(job, FinetuneJobTest.trainer(2), tmp.resolve("finetune"), null).fit();
            assertEquals(RunSummary.Status.COMPLETED, s.status());
            assertTrue(s.finalMetrics().containsKey("top1") && s.finalMetrics().containsKey("top5"));
        }
    }
}
