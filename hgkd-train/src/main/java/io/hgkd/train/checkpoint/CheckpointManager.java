package io.hgkd.train.checkpoint;

import io.hgkd.core.io.SafeTensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes checkpoints into a root directory crash-safely and keeps the last N plus the best one.
 *
 * <p><b>Atomic write.</b> {@link #save} writes every file into a hidden sibling {@code .tmp-checkpoint-<step>-<random>},
 * syncs each file ({@code state.json} last, with a manifest of the other files' sizes), syncs the directory, and only
 * then renames it to {@code checkpoint-<step>} (one atomic {@code rename(2)} on POSIX file systems) and syncs the
 * root. A crash at any point leaves either the complete checkpoint under its final name or a temporary directory that
 * no reader looks at; the previous checkpoints are never touched before the new one is complete.
 *
 * <p><b>Retention.</b> After a successful write, complete checkpoints other than the newest {@code keepLast} and the
 * best one are deleted. The best checkpoint is not a copy, a link or a pointer file: it is whichever retained
 * checkpoint has the best {@link TrainingState#metric()}, read from the {@code state.json} files, and retention never
 * deletes it. So the best checkpoint ever written is always retained (by induction over saves), and no second file
 * can disagree with the checkpoints after a crash. Ties go to the earlier checkpoint. Deletion first renames a
 * directory to {@code .del-checkpoint-<step>-<random>}, so a crash mid-delete cannot leave a half-deleted checkpoint
 * under a final name.
 *
 * <p><b>Start-up.</b> The constructor removes {@code .tmp-checkpoint-*} and {@code .del-checkpoint-*} directories
 * left by a crash, logging a line naming each ({@link #cleanedUp()} lists them).
 *
 * <p><b>Reading.</b> {@link #latest()} and {@link #best()} skip temporary directories and incomplete checkpoints
 * (no {@code state.json}, logged as a warning), but a checkpoint whose {@code state.json} is corrupt or whose files
 * do not match its manifest is an error naming the directory and file: silently falling back to an older checkpoint
 * would discard training without telling anyone.
 *
 * <p>One manager (one process) per root directory; it is not thread-safe.
 */
public final class CheckpointManager {
    /** Digits of the zero-padded step in a checkpoint's name ({@code checkpoint-000001200}). */
    public static final int STEP_DIGITS = 9;
    /** Prefix of checkpoint directory names. */
    public static final String PREFIX = "checkpoint-";

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointManager.class);
    private static final Pattern FINAL = Pattern.compile(Pattern.quote(PREFIX) + "(\\d+)");
    private static final String TMP_PREFIX = ".tmp-" + PREFIX;
    private static final String DEL_PREFIX = ".del-" + PREFIX;

    /** Which direction of the metric is better. */
    public enum Goal {
        /** Larger is better (accuracy). */
        MAXIMIZE,
        /** Smaller is better (loss). */
        MINIMIZE
    }

    private final Path root;
    private final int keepLast;
    private final Goal goal;
    private final List<Path> cleanedUp;
    /** Test hook: called after each file is complete in the temporary directory (see the kill-mid-write test). */
    private Consumer<Path> afterFile = p -> { };

    /**
     * Opens (creating it if needed) the checkpoint root and removes temporary directories left by a crash.
     *
     * @param keepLast number of newest checkpoints to keep, &gt;= 1
     * @param goal     how to pick the best checkpoint by {@link TrainingState#metric()}, or null to keep only the
     *                 newest {@code keepLast}
     */
    public CheckpointManager(Path root, int keepLast, Goal goal) throws IOException {
        if (keepLast < 1) {
            throw new IllegalArgumentException("keepLast must be >= 1, got " + keepLast);
        }
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        this.keepLast = keepLast;
        this.goal = goal;
        Files.createDirectories(this.root);
        this.cleanedUp = List.copyOf(cleanUp());
    }

    /** The root directory. */
    public Path root() {
        return root;
    }

    /** The temporary directories the constructor removed. */
    public List<Path> cleanedUp() {
        return cleanedUp;
    }

    /** The directory name of the checkpoint at {@code step}. */
    public static String dirName(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        return PREFIX + String.format("%0" + STEP_DIGITS + "d", step);
    }

    void afterFileHook(Consumer<Path> hook) {
        this.afterFile = Objects.requireNonNull(hook);
    }

    private List<Path> cleanUp() throws IOException {
        List<Path> removed = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if ((n.startsWith(TMP_PREFIX) || n.startsWith(DEL_PREFIX)) && Files.isDirectory(p)) {
                    LOG.warn("Removing {}, left by an interrupted checkpoint {}", p,
                            n.startsWith(TMP_PREFIX) ? "write" : "deletion");
                    deleteTree(p);
                    removed.add(p);
                }
            }
        }
        removed.sort(Comparator.naturalOrder());
        return removed;
    }

    /**
     * Writes {@code snapshot} as {@code checkpoint-<globalStep>} (see the class comment), then applies retention.
     *
     * @return the new checkpoint directory
     * @throws CheckpointException when a checkpoint of that step already exists (resuming from an older checkpoint
     *                             into a root that has newer ones: move them away first)
     * @throws IOException         when writing fails; the temporary directory is removed and older checkpoints are
     *                             intact
     */
    public Path save(Snapshot snapshot) throws IOException {
        long step = snapshot.state().globalStep();
        Path target = root.resolve(dirName(step));
        if (Files.exists(target)) {
            throw new CheckpointException(target, "a checkpoint of step " + step + " already exists");
        }
        Path tmp = uniqueSibling(TMP_PREFIX + step + "-");
        boolean renamed = false;
        try {
            ObjectNode files = Checkpoint.JSON.createObjectNode();
            for (Map.Entry<String, Map<String, INDArray>> m
                    : snapshot.modules().entrySet()) {
                writeTensors(tmp, Checkpoint.moduleFile(m.getKey()), m.getValue(), files);
            }
            writeTensors(tmp, Checkpoint.OPTIMIZER_FILE, snapshot.optimizer(), files);
            writeTensors(tmp, Checkpoint.EXTRA_FILE, snapshot.extra(), files);
            ObjectNode json = snapshot.state().toJson();
            json.set("modules", Checkpoint.JSON.valueToTree(List.copyOf(snapshot.modules().keySet())));
            json.set("files", files);
            Path stateFile = tmp.resolve(Checkpoint.STATE_FILE);
            writeSynced(stateFile, Checkpoint.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
            afterFile.accept(stateFile);
            syncDirectory(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                // Same directory, so this only happens on exotic file systems; a plain rename is the best left.
                Files.move(tmp, target);
            }
            renamed = true;
            syncDirectory(root);
        } finally {
            if (!renamed) {
                try {
                    deleteTree(tmp);
                } catch (IOException suppressed) {
                    // The original failure matters more; the next start removes the directory.
                }
            }
        }
        LOG.info("Saved checkpoint {}", target);
        prune(target);
        return target;
    }

    private void writeTensors(Path dir, String name, Map<String, INDArray> tensors,
                              ObjectNode files) throws IOException {
        Path f = dir.resolve(name);
        SafeTensors.write(f, tensors);
        files.put(name, Files.size(f));
        afterFile.accept(f);
    }

    private Path uniqueSibling(String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = root.resolve(prefix + Long.toHexString(ThreadLocalRandom.current().nextLong()));
            try {
                return Files.createDirectory(p);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    private static void writeSynced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    /** fsync of a directory, so that renames and new entries in it survive a power loss. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some platforms (Windows) cannot open directories; the rename is still atomic there.
            LOG.debug("cannot sync directory {}: {}", dir, e.toString());
        }
    }

    /** A final-named checkpoint directory with its step. */
    private record Entry(Path dir, long step) {
    }

    /** Final-named directories, newest first (by step number, not by name). */
    private List<Entry> entries() throws IOException {
        List<Entry> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                Matcher m = FINAL.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    try {
                        out.add(new Entry(p, Long.parseLong(m.group(1))));
                    } catch (NumberFormatException e) {
                        LOG.warn("Ignoring {}: step number out of range", p);
                    }
                }
            }
        }
        out.sort(Comparator.comparingLong(Entry::step).reversed());
        return out;
    }

    /** A complete checkpoint with its state. */
    private record Complete(Path dir, long step, TrainingState state) {
    }

    /** Complete checkpoints, newest first; incomplete ones are logged and skipped, corrupt ones throw. */
    private List<Complete> complete() throws IOException {
        return complete(true);
    }

    /**
     * Complete checkpoints, newest first. Incomplete ones are logged and skipped; corrupt ones throw when
     * {@code strict}, else they are logged and skipped too (retention must not fail a run that just saved).
     */
    private List<Complete> complete(boolean strict) throws IOException {
        List<Complete> out = new ArrayList<>();
        for (Entry e : entries()) {
            try {
                out.add(new Complete(e.dir(), e.step(), Checkpoint.inspect(e.dir()).state()));
            } catch (NoSuchFileException missing) {
                LOG.warn("Ignoring incomplete checkpoint {}: {} is missing", e.dir(), Checkpoint.STATE_FILE);
            } catch (IOException corrupt) {
                if (strict) {
                    throw corrupt;
                }
                LOG.warn("Ignoring (and keeping) corrupt checkpoint {}: {}", e.dir(), corrupt.getMessage());
            }
        }
        return out;
    }

    /**
     * Every complete checkpoint, oldest first.
     *
     * @throws CheckpointException naming the directory and file when one is corrupt
     */
    public List<Path> checkpoints() throws IOException {
        List<Path> out = new ArrayList<>();
        complete().forEach(c -> out.add(0, c.dir()));
        return out;
    }

    /**
     * The newest complete checkpoint, skipping temporary and incomplete directories.
     *
     * @throws CheckpointException naming the directory and file when a checkpoint is corrupt
     */
    public Optional<Path> latest() throws IOException {
        for (Entry e : entries()) {
            try {
                Checkpoint.inspect(e.dir());
                return Optional.of(e.dir());
            } catch (NoSuchFileException missing) {
                LOG.warn("Ignoring incomplete checkpoint {}: {} is missing", e.dir(), Checkpoint.STATE_FILE);
            }
        }
        return Optional.empty();
    }

    /**
     * The complete checkpoint with the best metric, or empty when there is no goal or no checkpoint has a metric.
     *
     * @throws CheckpointException naming the directory and file when a checkpoint is corrupt
     */
    public Optional<Path> best() throws IOException {
        Complete b = bestOf(complete());
        return b == null ? Optional.empty() : Optional.of(b.dir());
    }

    private Complete bestOf(List<Complete> all) {
        if (goal == null) {
            return null;
        }
        Complete best = null;
        // Oldest first, and only a strictly better value replaces: ties go to the earlier checkpoint.
        for (int i = all.size() - 1; i >= 0; i--) {
            Complete c = all.get(i);
            Double m = c.state().metric();
            if (m == null) {
                continue;
            }
            if (best == null || (goal == Goal.MAXIMIZE ? m > best.state().metric() : m < best.state().metric())) {
                best = c;
            }
        }
        return best;
    }

    /**
     * Deletes complete checkpoints beyond the newest {@code keepLast} and the best. Corrupt and incomplete
     * directories are neither counted nor deleted: they are not ours to judge, and a failing retention must not turn
     * a successful save into an error.
     */
    private void prune(Path justWritten) throws IOException {
        List<Complete> all = complete(false);
        Complete best = bestOf(all);
        for (int i = 0; i < all.size(); i++) {
            Complete c = all.get(i);
            boolean keep = i < keepLast || c == best || c.dir().equals(justWritten);
            if (!keep) {
                delete(c);
            }
        }
    }

    private void delete(Complete c) throws IOException {
        // Rename first: a crash while deleting files must not leave a half checkpoint under a final name.
        Path doomed = root.resolve(DEL_PREFIX + c.step() + "-" + Long.toHexString(ThreadLocalRandom.current()
                .nextLong()));
        Files.move(c.dir(), doomed, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(doomed);
        LOG.info("Deleted old checkpoint {}", c.dir());
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
