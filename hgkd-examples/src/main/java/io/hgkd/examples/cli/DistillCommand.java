package io.hgkd.examples.cli;

import io.hgkd.train.trainer.DistillJob;
import io.hgkd.train.trainer.DistillJobConfig;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code hgkd distill --config FILE --output DIR}: an H-GKD (or plain SparK) distillation run. */
@Command(name = "distill", mixinStandardHelpOptions = true,
        header = "Pretrain a ResNet student by H-GKD distillation from a ViT teacher (or plain SparK).",
        description = {"Trains the SparK student (masked ResNet encoder + decoder) with the H-GKD loss: pixel "
            + "reconstruction plus feature and similarity distillation from the ViT teacher (job.teacherWeights, e.g. "
            + "from 'hgkd pretrain-teacher' + 'hgkd export'). Job config: DistillJobConfig; trainer: TrainerConfig; "
            + "fields documented in docs/training.md. Example: hgkd-examples/src/main/resources/configs/"
            + "distill-fashion-mnist.json.",
            "Writes DIR/config.json, DIR/metrics.jsonl, plots and DIR/checkpoints/; 'hgkd export' turns a checkpoint"
            + " into a timm ResNet encoder for 'hgkd finetune'. SIGTERM/Ctrl-C stops at the end of the epoch with a"
            + " checkpoint; --resume continues."})
final class DistillCommand implements Callable<Integer> {
    @Mixin
    TrainingRun run;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        return run.run(spec, DistillJobConfig.class, DistillJob::new);
    }
}
