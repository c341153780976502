package io.hgkd.examples;

import io.hgkd.examples.cli.Hgkd;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * H-GKD pretraining at ImageNet scale: a frozen MAE ViT-B/16 teacher distils into a SparK ResNet-50 student at 224 px
 * with the SparK/method.md recipe (LAMB, effective batch 4096, 300 epochs; the bundled
 * {@code configs/distill-imagenet-r50-vitb.json}). Delegates to {@code hgkd distill}; after a completed run it exports
 * the student encoder (timm names) to {@code OUTPUT/student_encoder.safetensors} for {@link ImageNetFinetune}.
 *
 * <pre>
 * java -cp ... io.hgkd.examples.ImageNetPretrain /data/imagenet --teacher mae_pretrain_vit_base.safetensors \
 *     -o runs/in1k-distill [--resume] [--set job.data.batchSize=64 --set trainer.accumSteps=64]
 * </pre>
 */
@Command(name = "ImageNetPretrain", mixinStandardHelpOptions = true,
        description = {"H-GKD: MAE ViT-B/16 teacher -> SparK ResNet-50 student on ImageNet (224 px). The bundled config "
            + "is printed at start and saved as OUTPUT/config.json; checkpoints every epoch; --resume continues."})
public final class ImageNetPretrain extends ImageNetRun {
    /** The bundled config. */
    public static final String CONFIG = "classpath:configs/distill-imagenet-r50-vitb.json";

    @Option(names = "--teacher", required = true, paramLabel = "FILE.safetensors",
            description = "The teacher's weights: MAE's mae_pretrain_vit_base.pth converted with "
                    + "tools/pth_to_safetensors.py, or a timm ViT-B/16 model.safetensors.")
    Path teacher;

    ImageNetPretrain() {
        config = CONFIG;
    }

    @Override
    String command() {
        return "distill";
    }

    @Override
    List<String> weightSets() {
        return List.of("job.teacherWeights=" + safetensors(teacher, "--teacher").toAbsolutePath());
    }

    @Override
    int afterRun(PrintWriter out, PrintWriter err) {
        return Hgkd.execute(new String[] {"export", output.toString(), "--output",
            output.resolve("student_encoder.safetensors").toString()}, out, err);
    }

    /** Runs the example; see the class comment for the arguments ({@code --help} lists them). */
    public static void main(String[] args) {
        main(new ImageNetPretrain(), args);
    }
}
