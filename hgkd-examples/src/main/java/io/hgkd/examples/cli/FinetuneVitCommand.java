package io.hgkd.examples.cli;

import io.hgkd.train.trainer.VitFinetuneJob;
import io.hgkd.train.trainer.VitFinetuneJobConfig;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code hgkd finetune-vit --config FILE --output DIR}: supervised fine-tuning of a ViT encoder (the teacher). */
@Command(name = "finetune-vit", mixinStandardHelpOptions = true,
        header = "Fine-tune a ViT encoder as a classifier (e.g. the MAE teacher on the labelled subset).",
        description = {"Trains a ViT classifier on mean-pooled final tokens (cross-entropy with label smoothing, "
            + "MAE's per-block layer decay), evaluating top-1/top-5 after every epoch; job.data.labels restricts the "
            + "training labels. job.encoderWeights takes 'hgkd export' of a pretrain-teacher run (null = random init)."
            + " 'hgkd export' of its checkpoint writes the encoder in the layout job.teacherWeights of 'hgkd distill'"
            + " loads. Job config: VitFinetuneJobConfig; trainer: TrainerConfig; fields in docs/training.md. "
            + "Example: hgkd-examples/src/main/resources/configs/finetune-vit-fashion-mnist.json.",
            "Writes DIR/config.json, DIR/metrics.jsonl, plots and DIR/checkpoints/ (best by top1)."})
final class FinetuneVitCommand implements Callable<Integer> {
    @Mixin
    TrainingRun run;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        return run.run(spec, VitFinetuneJobConfig.class, VitFinetuneJob::new);
    }
}
