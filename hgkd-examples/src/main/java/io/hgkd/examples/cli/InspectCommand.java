package io.hgkd.examples.cli;

import io.hgkd.models.checkpoint.ArchitectureGuess;
import io.hgkd.models.checkpoint.CheckpointInfo;
import io.hgkd.models.checkpoint.Checkpoints;
import io.hgkd.models.checkpoint.TensorSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hgkd inspect FILE}: the tensors of a checkpoint (name, dtype, shape), totals, metadata and the architecture
 * they match. A safetensors file is described from its header alone, so inspecting a multi-gigabyte file is instant.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        header = "List a checkpoint's tensors and name the architecture it matches.",
        description = {"Lists the tensors of a .safetensors or .npz checkpoint (name, dtype, shape), totals, metadata "
            + "and the architecture the keys match (timm ViT, MAE with decoder, ResNet, SparK). A safetensors file is "
            + "described from its header alone.",
            "PyTorch .pth files must be converted first: python3 tools/pth_to_safetensors.py IN.pth OUT.safetensors"})
final class InspectCommand implements Callable<Integer> {
    /** Metadata values longer than this are shortened unless --all. */
    private static final int METADATA_WIDTH = 120;

    @Parameters(index = "0", paramLabel = "FILE", description = "A .safetensors or .npz checkpoint.")
    Path file;

    @Option(names = "--all", description = "List every tensor and print metadata values in full.")
    boolean all;

    @Option(names = {"-n", "--limit"}, paramLabel = "N", defaultValue = "30",
            description = "List the first N tensors (default: ${DEFAULT-VALUE}); --all lists every one.")
    int limit;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (limit < 0) {
            throw new ParameterException(spec.commandLine(), "--limit must be >= 0, got " + limit);
        }
        CheckpointInfo info = Checkpoints.inspect(file);
        PrintWriter out = spec.commandLine().getOut();
        Map<String, TensorSpec> tensors = info.tensors();
        int shown = all ? tensors.size() : Math.min(limit, tensors.size());

        int nameWidth = "name".length();
        int dtypeWidth = "dtype".length();
        int i = 0;
        for (Map.Entry<String, TensorSpec> e : tensors.entrySet()) {
            if (i++ == shown) {
                break;
            }
            nameWidth = Math.max(nameWidth, e.getKey().length());
            dtypeWidth = Math.max(dtypeWidth, e.getValue().dtype().length());
        }
        if (shown > 0) {
            String row = "%-" + nameWidth + "s  %-" + dtypeWidth + "s  %s%n";
            out.printf(Locale.ROOT, row, "name", "dtype", "shape");
            i = 0;
            for (Map.Entry<String, TensorSpec> e : tensors.entrySet()) {
                if (i++ == shown) {
                    break;
                }
                out.printf(Locale.ROOT, row, e.getKey(), e.getValue().dtype(), e.getValue().shapeString());
            }
        }
        if (shown < tensors.size()) {
            out.printf(Locale.ROOT, "(%d of %d tensors listed; --all lists every one)%n", shown, tensors.size());
        }
        out.println();

        ArchitectureGuess guess = info.guess();
        List<String> dtypes = new ArrayList<>();
        info.dtypeCounts().forEach((d, n) -> dtypes.add(n + " " + d));
        out.printf(Locale.ROOT, "file:          %s (%s, %s)%n", info.file(),
                info.format().name().toLowerCase(Locale.ROOT), bytes(info.fileBytes()));
        out.printf(Locale.ROOT, "tensors:       %d (%s)%n", tensors.size(),
                dtypes.isEmpty() ? "none" : String.join(", ", dtypes));
        out.printf(Locale.ROOT, "elements:      %,d (%s); parameters: %,d (%s, without BN running statistics)%n",
                info.totalElements(), ArchitectureGuess.humanCount(info.totalElements()), guess.parameterCount(),
                ArchitectureGuess.humanCount(guess.parameterCount()));
        if (info.metadata().isEmpty()) {
            out.println("metadata:      none");
        } else {
            out.println("metadata:");
            int keyWidth = info.metadata().keySet().stream().mapToInt(String::length).max().orElse(0);
            String row = "  %-" + keyWidth + "s  %s%n";
            info.metadata().forEach((k, v) -> out.printf(Locale.ROOT, row, k, shorten(v)));
        }
        out.println("architecture:  " + guess.summary());
        out.flush();
        return Hgkd.OK;
    }

    private String shorten(String v) {
        String one = v.replace("\r", "\\r").replace("\n", "\\n");
        return all || one.length() <= METADATA_WIDTH ? one : one.substring(0, METADATA_WIDTH - 3) + "...";
    }

    /** {@code "33,768 bytes"}, {@code "330.2 MiB"}. */
    static String bytes(long n) {
        if (n < 1024 * 1024) {
            return String.format(Locale.ROOT, "%,d bytes", n);
        }
        double v = n / (1024.0 * 1024.0);
        return v < 1024 ? String.format(Locale.ROOT, "%.1f MiB", v) : String.format(Locale.ROOT, "%.2f GiB", v / 1024);
    }
}
