package io.hgkd.examples.cli;

import io.hgkd.train.trainer.FinetuneJob;
import io.hgkd.train.trainer.FinetuneJobConfig;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code hgkd finetune --config FILE --output DIR}: supervised fine-tuning of a ResNet classifier. */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        header = "Fine-tune a ResNet classifier (from an exported encoder or from scratch).",
        description = {"Trains a ResNet classifier with label smoothing, layer-wise lr decay, optional EMA and "
            + "mixup/cutmix, evaluating top-1/top-5 after every epoch. job.encoderWeights takes the output of "
            + "'hgkd export' of a distill checkpoint (null = random init). Job config: FinetuneJobConfig; trainer: "
            + "TrainerConfig; fields documented in docs/training.md. Example: "
            + "hgkd-examples/src/main/resources/configs/finetune-tiny.json.",
            "Writes DIR/config.json, DIR/metrics.jsonl, plots and DIR/checkpoints/ (best by top1)."})
final class FinetuneCommand implements Callable<Integer> {
    @Mixin
    TrainingRun run;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        return run.run(spec, FinetuneJobConfig.class, FinetuneJob::new);
    }
}
