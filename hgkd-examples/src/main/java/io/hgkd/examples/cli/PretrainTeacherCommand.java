package io.hgkd.examples.cli;

import io.hgkd.train.trainer.MaePretrainJob;
import io.hgkd.train.trainer.MaePretrainJobConfig;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code hgkd pretrain-teacher --config FILE --output DIR}: MAE pretraining of the ViT teacher. */
@Command(name = "pretrain-teacher", mixinStandardHelpOptions = true,
        header = "Pretrain the ViT teacher as a masked autoencoder (MAE).",
        description = {"Trains an MAE (ViT encoder + light decoder, normalised-pixel loss) on the configured images."
            + " 'hgkd export' of its checkpoint writes the ViT encoder with timm names, which "
            + "job.teacherWeights of 'hgkd distill' loads. Job config: MaePretrainJobConfig; trainer: TrainerConfig;"
            + " fields documented in docs/training.md. Example: "
            + "hgkd-examples/src/main/resources/configs/pretrain-teacher-tiny.json.",
            "Writes DIR/config.json, DIR/metrics.jsonl, plots and DIR/checkpoints/."})
final class PretrainTeacherCommand implements Callable<Integer> {
    @Mixin
    TrainingRun run;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        return run.run(spec, MaePretrainJobConfig.class, MaePretrainJob::new);
    }
}
