package io.hgkd.examples.cli;

import io.hgkd.train.checkpoint.Checkpoint;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.checkpoint.TrainingState;
import io.hgkd.train.trainer.DistillJob;
import io.hgkd.train.trainer.Exports;
import io.hgkd.train.trainer.MaePretrainJob;
import io.hgkd.train.trainer.Trainer;
import io.hgkd.train.trainer.VitFinetuneJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hgkd export CHECKPOINT --output FILE.safetensors}: the next stage's weights out of a training checkpoint. */
@Command(name = "export", mixinStandardHelpOptions = true,
        header = "Write a checkpoint's encoder as a timm-named safetensors file.",
        description = {"For a 'distill' checkpoint: the student's ResNet encoder with timm names (no fc.*), for "
            + "'hgkd finetune' (job.encoderWeights) or PyTorch. For an MAE ('pretrain-teacher') checkpoint: the ViT "
            + "encoder with timm names, for 'hgkd distill' (job.teacherWeights); likewise the encoder of a 'finetune-vit' "
            + "checkpoint (without its head). The kind is read from the "
            + "checkpoint. See docs/training.md.",
            "CHECKPOINT is a checkpoint directory (DIR/checkpoints/checkpoint-...) or a run directory, whose latest "
            + "checkpoint is used."})
final class ExportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "A checkpoint directory or a run directory.")
    Path checkpoint;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.safetensors",
            description = "The safetensors file to write.")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Path dir = resolve();
        TrainingState state = Checkpoint.readState(dir);
        String kind = state.jobKind();
        Map<String, INDArray> written;
        String what;
        if (kind.equals(DistillJob.KIND)) {
            written = Exports.studentEncoder(dir, output);
            what = "student ResNet encoder";
        } else if (kind.equals(MaePretrainJob.KIND)) {
            written = Exports.maeTeacher(dir, output);
            what = "MAE ViT encoder";
        } else if (kind.equals(VitFinetuneJob.KIND)) {
            written = Exports.vitEncoder(dir, output);
            what = "fine-tuned ViT encoder";
        } else {
            throw new IllegalArgumentException(dir + " is a '" + kind + "' checkpoint; export handles '"
                    + DistillJob.KIND + "', '" + MaePretrainJob.KIND + "' and '" + VitFinetuneJob.KIND
                    + "' checkpoints");
        }
        long params = written.values().stream().mapToLong(INDArray::length).sum();
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%s: %s of %s (epoch %d): %d tensors, %,d values%n", output, what, dir, state.epoch(),
                written.size(), params);
        out.flush();
        return Hgkd.OK;
    }

    private Path resolve() throws IOException {
        Path runCheckpoints = checkpoint.resolve(Trainer.CHECKPOINTS);
        if (!Files.isDirectory(runCheckpoints)) {
            return checkpoint;
        }
        CheckpointManager m = new CheckpointManager(runCheckpoints, Integer.MAX_VALUE, null);
        return m.latest().orElseThrow(() -> new IllegalArgumentException(runCheckpoints + ": no checkpoint"));
    }
}
