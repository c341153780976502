package io.hgkd.train.trainer;

import io.hgkd.core.io.SafeTensors;
import io.hgkd.models.mae.MaskedAutoencoderViT;
import io.hgkd.models.student.EncoderExport;
import io.hgkd.train.checkpoint.Checkpoint;
import io.hgkd.train.checkpoint.Snapshot;
import io.hgkd.train.finetune.VitClassifier;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Weights out of trainer checkpoints, for the next stage: the student encoder of a {@code distill} checkpoint with
 * timm ResNet names (what {@link FinetuneJobConfig#encoderWeights()} and PyTorch load), and the ViT encoder of an
 * {@code mae} or {@code finetune-vit} checkpoint (what {@link DistillJobConfig#teacherWeights()} loads).
 */
public final class Exports {
    private Exports() {
    }

    /**
     * Writes the student encoder of the distill checkpoint {@code checkpointDir} to {@code output}.
     *
     * @return the tensors written
     * @throws IllegalArgumentException if the checkpoint is not a distill checkpoint or holds no encoder
     */
    public static Map<String, INDArray> studentEncoder(Path checkpointDir, Path output) throws IOException {
        Checkpoint ckpt = Checkpoint.load(checkpointDir);
        requireKind(ckpt, DistillJob.KIND);
        Map<String, INDArray> out = new LinkedHashMap<>();
        ckpt.module(Snapshot.MODEL).forEach((k, v) -> {
            if (k.startsWith(EncoderExport.PREFIX)) {
                out.put(k.substring(EncoderExport.PREFIX.length()), v);
            }
        });
        if (out.isEmpty()) {
            throw new IllegalArgumentException(checkpointDir + ": no " + EncoderExport.PREFIX + "* tensors in the"
                    + " model");
        }
        SafeTensors.write(output, out, Map.of("format", "pt", "source", "hgkd distill checkpoint "
                + checkpointDir.getFileName() + " (student encoder)"));
        return out;
    }

    /**
     * Writes the ViT encoder of the MAE checkpoint {@code checkpointDir} (rebuilt from the config stored in it) to
     * {@code output}.
     *
     * @return the tensors written
     */
    public static Map<String, INDArray> maeTeacher(Path checkpointDir, Path output) throws IOException {
        Checkpoint ckpt = Checkpoint.load(checkpointDir);
        requireKind(ckpt, MaePretrainJob.KIND);
        MaePretrainJobConfig config = Trainer.JSON.treeToValue(ckpt.state().config().get("job"),
                MaePretrainJobConfig.class);
        MaskedAutoencoderViT mae = new MaskedAutoencoderViT(config.mae());
        ckpt.restoreModule(Snapshot.MODEL, mae);
        Map<String, INDArray> out = mae.encoderStateDict();
        SafeTensors.write(output, out, Map.of("format", "pt", "source", "hgkd mae checkpoint "
                + checkpointDir.getFileName() + " (ViT encoder)"));
        return out;
    }

    /**
     * Writes the ViT encoder of the {@code finetune-vit} checkpoint {@code checkpointDir} (ViT names, no head: the
     * layout {@link DistillJobConfig#teacherWeights()} loads) to {@code output}.
     *
     * @return the tensors written
     */
    public static Map<String, INDArray> vitEncoder(Path checkpointDir, Path output) throws IOException {
        Checkpoint ckpt = Checkpoint.load(checkpointDir);
        requireKind(ckpt, VitFinetuneJob.KIND);
        Map<String, INDArray> out = new LinkedHashMap<>();
        ckpt.module(Snapshot.MODEL).forEach((k, v) -> {
            if (k.startsWith(VitClassifier.ENCODER_PREFIX)) {
                out.put(k.substring(VitClassifier.ENCODER_PREFIX.length()), v);
            }
        });
        if (out.isEmpty()) {
            throw new IllegalArgumentException(checkpointDir + ": no " + VitClassifier.ENCODER_PREFIX + "* tensors in"
                    + " the model");
        }
        SafeTensors.write(output, out, Map.of("format", "pt", "source", "hgkd finetune-vit checkpoint "
                + checkpointDir.getFileName() + " (ViT encoder)"));
        return out;
    }

    private static void requireKind(Checkpoint ckpt, String kind) {
        if (!ckpt.state().jobKind().equals(kind)) {
            throw new IllegalArgumentException(ckpt.dir() + " is a '" + ckpt.state().jobKind() + "' checkpoint, not '"
                    + kind + "'");
        }
    }
}
