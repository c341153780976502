package io.hgkd.examples.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code hgkd} command line (launched by {@code bin/hgkd}). Subcommands live in this package, one class each,
 * registered in the {@code subcommands} list below.
 *
 * <p>Exit codes: 0 success, 1 a runtime error (the message only, without a stack trace unless {@code -v/--debug}),
 * 2 a usage error (unknown option, missing argument, no subcommand).
 */
@Command(name = "hgkd", mixinStandardHelpOptions = true, versionProvider = Hgkd.Version.class,
        description = "H-GKD on ND4J: checkpoints, models and training from the command line.",
        subcommands = {InspectCommand.class, ForwardCommand.class, PretrainTeacherCommand.class, DistillCommand.class,
            FinetuneCommand.class, FinetuneVitCommand.class, ProbeCommand.class, EvalCommand.class, ExportCommand.class,
            QuickstartCommand.class,
            CommandLine.HelpCommand.class},
        footer = {"", "Run 'hgkd COMMAND --help' for a command's options."})
public final class Hgkd implements Runnable {
    /** Exit code of a successful run. */
    public static final int OK = 0;
    /** Exit code of a runtime error (bad file, failed computation). */
    public static final int ERROR = 1;
    /** Exit code of a usage error. */
    public static final int USAGE = 2;

    @Option(names = {"-v", "--debug"}, scope = ScopeType.INHERIT,
            description = "Print the stack trace of an error, not just its message.")
    boolean debug;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: choose one of "
                + spec.subcommands().keySet().stream().filter(k -> !k.equals("help")).toList());
    }

    /** Runs {@code hgkd} and exits the JVM with its exit code. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(execute(args, out, err));
    }

    /**
     * Runs {@code hgkd args} writing to {@code out} and {@code err}; returns the exit code (for tests and embedding).
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Hgkd());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(Hgkd::onError);
        cl.setParameterExceptionHandler(Hgkd::onUsageError);
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** A runtime error: the message, naming the command; the stack trace only with --debug. */
    private static int onError(Exception e, CommandLine cl, ParseResult parsed) {
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandSpec().qualifiedName() + ": error: " + message(e));
        if (debugRequested(parsed)) {
            e.printStackTrace(err);
        } else if (!(e instanceof IOException)) {
            err.println("(run with --debug for the stack trace)");
        }
        err.flush();
        return ERROR;
    }

    /** A usage error: the problem and where to find help, not the whole usage text. */
    private static int onUsageError(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandSpec().qualifiedName() + ": " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return USAGE;
    }

    /** A readable one-line message for an exception (file-system errors name the file and the problem). */
    static String message(Throwable e) {
        if (e instanceof NoSuchFileException f && f.getReason() == null) {
            return f.getFile() + ": no such file";
        }
        if (e instanceof AccessDeniedException f && f.getReason() == null) {
            return f.getFile() + ": permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() == null) {
            return f.getFile() + ": " + e.getClass().getSimpleName();
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getName();
        }
        return e instanceof IOException || e instanceof IllegalArgumentException ? m
                : e.getClass().getSimpleName() + ": " + m;
    }

    private static boolean debugRequested(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    /** {@code hgkd 0.1.0-SNAPSHOT}, with the ND4J and Java versions, from the filtered version.properties. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Hgkd.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {
                "hgkd " + p.getProperty("version", "(unknown version)"),
                "ND4J " + p.getProperty("nd4j", "(unknown)") + ", Java " + System.getProperty("java.version")
                        + " (" + System.getProperty("java.vendor") + ")"
            };
        }
    }
}
