package io.hgkd.models.student;

import io.hgkd.core.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Exports the student's encoder for fine-tuning in PyTorch: the tensors under {@code sparse_encoder.sp_cnn.} with
 * that prefix stripped, which are timm/torchvision ResNet names ({@code conv1.weight}, {@code bn1.running_var},
 * {@code layer1.0.conv1.weight}, ...). This is SparK's {@code <model>_1kpretrained_timm_style.pth} content:
 * {@code load_state_dict(strict=False)} into torchvision's or timm's ResNet reports only {@code fc.weight} and
 * {@code fc.bias} missing.
 */
public final class EncoderExport {
    /** The encoder's prefix in the student's state dict. */
    public static final String PREFIX = "sparse_encoder.sp_cnn.";

    private EncoderExport() {
    }

    /** A snapshot (copies) of the encoder state dict with timm names, in torchvision's order. */
    public static Map<String, INDArray> stateDict(SparkStudent student) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        student.stateDict().forEach((k, v) -> {
            if (k.startsWith(PREFIX)) {
                out.put(k.substring(PREFIX.length()), v.dup());
            }
        });
        return out;
    }

    /** Writes {@link #stateDict} as safetensors (F32 weights, I64 {@code num_batches_tracked}). */
    public static void writeSafetensors(SparkStudent student, Path file) throws IOException {
        SafeTensors.write(file, stateDict(student), Map.of("format", "pt", "source", "hgkd SparkStudent encoder"));
    }
}
