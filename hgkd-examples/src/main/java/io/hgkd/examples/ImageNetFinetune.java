package io.hgkd.examples;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * ImageNet-1K fine-tuning of a pretrained ResNet-50 encoder with SparK's recipe (LAMB, effective batch 2048, 300
 * epochs, layer decay 0.7, mixup/cutmix, EMA; the bundled {@code configs/finetune-imagenet-r50.json}); top-1/top-5 on
 * {@code val/} every epoch. Delegates to {@code hgkd finetune}.
 *
 * <pre>
 * java -cp ... io.hgkd.examples.ImageNetFinetune /data/imagenet --encoder runs/in1k-distill/student_encoder.safetensors \
 *     -o runs/in1k-finetune [--resume] [--set ...]
 * </pre>
 */
@Command(name = "ImageNetFinetune", mixinStandardHelpOptions = true,
        description = {"Fine-tune a ResNet-50 encoder (e.g. from ImageNetPretrain) on ImageNet train/, evaluated on "
            + "val/. The bundled config is printed at start and saved as OUTPUT/config.json; --resume continues."})
public final class ImageNetFinetune extends ImageNetRun {
    /** The bundled config. */
    public static final String CONFIG = "classpath:configs/finetune-imagenet-r50.json";

    @Option(names = "--encoder", paramLabel = "FILE.safetensors",
            description = "Pretrained encoder weights with timm ResNet names (ImageNetPretrain's "
                    + "student_encoder.safetensors, or hgkd export of a distill run); without it: from scratch.")
    Path encoder;

    ImageNetFinetune() {
        config = CONFIG;
    }

    @Override
    String command() {
        return "finetune";
    }

    @Override
    List<String> weightSets() {
        return List.of("job.encoderWeights=" + (encoder == null ? "null"
                : safetensors(encoder, "--encoder").toAbsolutePath().toString()));
    }

    /** Runs the example; see the class comment for the arguments ({@code --help} lists them). */
    public static void main(String[] args) {
        main(new ImageNetFinetune(), args);
    }
}
