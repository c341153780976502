package io.hgkd.examples;

import io.hgkd.examples.cli.Hgkd;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What {@link ImageNetPretrain} and {@link ImageNetFinetune} share: the ImageNet folder, the weights file, the output
 * folder, {@code --resume}, {@code --set}, {@code --print-config}; the run itself is the {@code hgkd} training command
 * with a bundled real-scale config (so it prints and saves the effective config, checkpoints every epoch and stops
 * cleanly on SIGTERM/Ctrl-C like the CLI).
 */
abstract class ImageNetRun implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IMAGENET_DIR", description = "ImageNet root: train/<class>/*.JPEG (and "
            + "val/<class>/*.JPEG for fine-tuning's evaluation).")
    Path data;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR",
            description = "Run directory (config.json, metrics, plots, checkpoints/).")
    Path output;

    @Option(names = "--resume", description = "Continue from the latest checkpoint in DIR.")
    boolean resume;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE.json",
            description = "Another config instead of the bundled one (default: ${DEFAULT-VALUE}).")
    String config;

    @Option(names = "--set", paramLabel = "KEY.PATH=VALUE", description = "Override a config field, e.g. --set "
            + "job.data.batchSize=64 --set trainer.accumSteps=64. Repeatable.")
    List<String> sets = new ArrayList<>();

    @Option(names = "--print-config", description = "Print the effective config and exit.")
    boolean printConfig;

    @Spec
    CommandSpec spec;

    /** The hgkd subcommand that trains ({@code distill}, {@code finetune}). */
    abstract String command();

    /** The {@code --set} assignments this example adds for its weights (after the data path). */
    abstract List<String> weightSets();

    /** Called after a completed run (not for --print-config); returns the exit code. */
    int afterRun(PrintWriter out, PrintWriter err) {
        return Hgkd.OK;
    }

    /** Refuses a PyTorch pickle, which hgkd does not read, with the conversion command. */
    Path safetensors(Path file, String what) {
        String n = file.getFileName().toString();
        if (n.endsWith(".pth") || n.endsWith(".pt") || n.endsWith(".bin")) {
            throw new ParameterException(spec.commandLine(), what + " " + file + " is a PyTorch pickle: convert it "
                    + "once with  python3 tools/pth_to_safetensors.py " + file + " "
                    + file.resolveSibling(n.replaceFirst("\\.[^.]+$", ".safetensors")));
        }
        return file;
    }

    @Override
    public Integer call() {
        if (!printConfig && !Files.isDirectory(data)) {
            throw new ParameterException(spec.commandLine(), "IMAGENET_DIR " + data + " is not a directory");
        }
        List<String> args = new ArrayList<>(List.of(command(), "--config", config, "--output", output.toString(),
                "--set", "job.data.path=" + data.toAbsolutePath()));
        for (String s : weightSets()) {
            args.add("--set");
            args.add(s);
        }
        for (String s : sets) {
            args.add("--set");
            args.add(s);
        }
        if (resume) {
            args.add("--resume");
        }
        if (printConfig) {
            args.add("--print-config");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int code = Hgkd.execute(args.toArray(new String[0]), out, err);
        return code == Hgkd.OK && !printConfig ? afterRun(out, err) : code;
    }

    /** Parses {@code args} for {@code command} and runs it; returns the exit code (for tests). */
    static int execute(ImageNetRun command, String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(command);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            c.getErr().println(c.getCommandSpec().name() + ": error: " + e.getMessage());
            return Hgkd.ERROR;
        });
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** {@link #execute} on System.out/err, then exits. */
    static void main(ImageNetRun command, String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(execute(command, args, out, err));
    }
}
