package io.hgkd.train.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.FileVisitor;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The image files under a folder, indexed without decoding any of them.
 *
 * <p><b>Labeled</b> (ImageNet layout): every subfolder of the root is a class, classes are sorted by name and
 * numbered in that order, and the images of a class are all files below its folder, at any depth: the same classes,
 * indices and file order as torchvision's {@code ImageFolder} (folders in the string order of their paths, files
 * sorted by name within a folder). Files directly in the root are ignored. <b>Unlabeled</b>: all images below the
 * root, in the same order, with label -1.
 *
 * <p>The index is built by walking the tree once, keeping only names: per file, its name as UTF-8 bytes in one
 * shared array plus two ints (about 30 bytes a file for ImageNet's 1.28 M files); no {@code Path} objects and no
 * per-file metadata are kept. Symbolic links are followed (loops are reported and skipped). A directory that cannot
 * be listed is skipped with a warning naming it, or fails the indexing in strict mode. Files are only opened by
 * {@link #read}.
 */
public final class ImageFolder implements ImageSource {
    private static final Logger LOG = LoggerFactory.getLogger(ImageFolder.class);

    /** The default image extensions, compared case-insensitively. */
    public static final Set<String> DEFAULT_EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif");

    /**
     * How to index a folder.
     *
     * @param labeled    true for one folder per class, false for an unlabeled tree
     * @param extensions file name extensions to include, without the dot, case-insensitive
     * @param strict     fail on a directory that cannot be listed instead of skipping it
     */
    public record Options(boolean labeled, Set<String> extensions, boolean strict) {

        /** Validates and normalises the extensions to lower case without dots. */
        public Options {
            if (extensions == null || extensions.isEmpty()) {
                throw new IllegalArgumentException("at least one file extension is needed");
            }
            Set<String> norm = new TreeSet<>();
            for (String e : extensions) {
                String x = e.strip().toLowerCase(Locale.ROOT);
                x = x.startsWith(".") ? x.substring(1) : x;
                if (x.isEmpty()) {
                    throw new IllegalArgumentException("empty file extension in " + extensions);
                }
                norm.add(x);
            }
            extensions = Collections.unmodifiableSet(norm);
        }

        /** One folder per class, default extensions, not strict. */
        public static Options imagenetLayout() {
            return new Options(true, DEFAULT_EXTENSIONS, false);
        }

        /** All images below the root, default extensions, not strict. */
        public static Options unlabeledTree() {
            return new Options(false, DEFAULT_EXTENSIONS, false);
        }

        /** A copy with {@code strict} set. */
        public Options withStrict(boolean value) {
            return new Options(labeled, extensions, value);
        }

        /** A copy with other extensions. */
        public Options withExtensions(Set<String> value) {
            return new Options(labeled, value, strict);
        }

        boolean accepts(String fileName) {
            String lower = fileName.toLowerCase(Locale.ROOT);
            for (String e : extensions) {
                if (lower.length() > e.length() + 1 && lower.endsWith(e)
                        && lower.charAt(lower.length() - e.length() - 1) == '.') {
                    return true;
                }
            }
            return false;
        }
    }

    private final Path root;
    private final Options options;
    private final List<String> classes;
    private final int[] classCounts;
    private final String[] dirs;
    private final int[] dirClass;
    private final byte[] names;
    private final int[] nameEnd;
    private final int[] dirOf;
    private final List<String> skipped;

    private ImageFolder(Path root, Options options, List<String> classes, int[] classCounts, String[] dirs,
            int[] dirClass, byte[] names, int[] nameEnd, int[] dirOf, List<String> skipped) {
        this.root = root;
        this.options = options;
        this.classes = classes;
        this.classCounts = classCounts;
        this.dirs = dirs;
        this.dirClass = dirClass;
        this.names = names;
        this.nameEnd = nameEnd;
        this.dirOf = dirOf;
        this.skipped = skipped;
    }

    /** Indexes a folder in ImageNet layout (one subfolder per class). */
    public static ImageFolder labeled(Path root) throws IOException {
        return open(root, Options.imagenetLayout());
    }

    /** Indexes all images below a folder, without labels. */
    public static ImageFolder unlabeled(Path root) throws IOException {
        return open(root, Options.unlabeledTree());
    }

    /**
     * Indexes a folder.
     *
     * @throws IOException if the root is missing or not a directory, if no image is found, or (strict) if a
     *                     directory cannot be listed; messages name the path
     */
    public static ImageFolder open(Path root, Options options) throws IOException {
        long t0 = System.nanoTime();
        Path r = root.toAbsolutePath().normalize();
        if (!Files.exists(r)) {
            throw new NoSuchFileException(r.toString(), null, "image folder does not exist");
        }
        if (!Files.isDirectory(r)) {
            throw new NotDirectoryException(r + " (an image folder must be a directory)");
        }
        Index index = new Index(r, options);
        List<String> classes = new ArrayList<>();
        if (options.labeled()) {
            List<String> found = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(r)) {
                for (Path p : ds) {
                    if (Files.isDirectory(p)) {
                        found.add(p.getFileName().toString());
                    }
                }
            } catch (IOException e) {
                throw new IOException("cannot list the class folders of " + r + ": " + e, e);
            }
            Collections.sort(found);
            classes.addAll(found);
            for (int c = 0; c < classes.size(); c++) {
                index.walk(r.resolve(classes.get(c)), c);
            }
        } else {
            index.walk(r, -1);
        }
        int n = index.count;
        if (n == 0) {
            throw new IOException("no image files (" + String.join(", ", options.extensions()) + ") found under " + r
                    + (options.labeled() ? (classes.isEmpty() ? ": it has no class subfolders"
                            : " in its " + classes.size() + " class folders") : ""));
        }
        int[] counts = new int[classes.size()];
        int[] dirOf = Arrays.copyOf(index.dirOf, n);
        String[] dirs = index.dirs.toArray(new String[0]);
        int[] dirClass = Arrays.copyOf(index.dirClass, dirs.length);
        for (int i = 0; i < n; i++) {
            if (dirClass[dirOf[i]] >= 0) {
                counts[dirClass[dirOf[i]]]++;
            }
        }
        for (int c = 0; c < counts.length; c++) {
            if (counts[c] == 0) {
                LOG.warn("class folder {} has no image files; its class index {} is kept", r.resolve(classes.get(c)),
                        c);
            }
        }
        ImageFolder f = new ImageFolder(r, options, List.copyOf(classes), counts, dirs, dirClass,
                Arrays.copyOf(index.names, index.nameBytes), Arrays.copyOf(index.nameEnd, n), dirOf,
                List.copyOf(index.skipped));
        LOG.info("indexed {} images{} under {} in {} s{}", n,
                options.labeled() ? " in " + classes.size() + " classes" : " (unlabeled)", r,
                String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9),
                index.skipped.isEmpty() ? "" : "; skipped " + index.skipped.size() + " unreadable paths");
        return f;
    }

    /** The indexed folder (absolute, normalised). */
    public Path root() {
        return root;
    }

    /** The options it was indexed with. */
    public Options options() {
        return options;
    }

    @Override
    public int size() {
        return nameEnd.length;
    }

    /** Class names (folder names) in index order; empty when unlabeled. */
    public List<String> classes() {
        return classes;
    }

    @Override
    public int numClasses() {
        return classes.size();
    }

    /** Number of images per class, in class index order. */
    public int[] classCounts() {
        return classCounts.clone();
    }

    /** Directories and files that could not be read (or were link loops) while indexing, with the reason. */
    @Override
    public List<String> skippedPaths() {
        return skipped;
    }

    @Override
    public int label(int index) {
        return dirClass[dirOf[check(index)]];
    }

    /** The path of image {@code index} relative to the root, with '/' separators. */
    public String relativePath(int index) {
        String d = dirs[dirOf[check(index)]];
        return d.isEmpty() ? name(index) : d + "/" + name(index);
    }

    /** The file of image {@code index}. */
    public Path path(int index) {
        String d = dirs[dirOf[check(index)]];
        return (d.isEmpty() ? root : root.resolve(d)).resolve(name(index));
    }

    @Override
    public String describe(int index) {
        return path(index).toString();
    }

    @Override
    public ByteImage read(int index, int channels) throws IOException {
        return ImageDecoder.decode(path(index), channels);
    }

    private String name(int index) {
        int start = index == 0 ? 0 : nameEnd[index - 1];
        return new String(names, start, nameEnd[index] - start, StandardCharsets.UTF_8);
    }

    private int check(int index) {
        if (index < 0 || index >= nameEnd.length) {
            throw new IndexOutOfBoundsException("image index " + index + " outside 0.." + (nameEnd.length - 1));
        }
        return index;
    }

    // ---- indexing ------------------------------------------------------------------------------------------------

    /** Growable arrays filled by the walk; each directory's files are sorted and appended once it is complete. */
    private static final class Index {
        final Path root;
        final Options options;
        final List<String> dirs = new ArrayList<>();
        int[] dirClass = new int[64];
        byte[] names = new byte[1 << 16];
        int nameBytes;
        int[] nameEnd = new int[1024];
        int[] dirOf = new int[1024];
        int count;
        final List<String> skipped = new ArrayList<>();
        long nextProgress = 200_000;

        Index(Path root, Options options) {
            this.root = root;
            this.options = options;
        }

        /**
         * One directory's accepted file names, sorted and packed as UTF-8 (so an unlabeled walk over a million files
         * does not hold a million Strings until the directories are sorted).
         */
        private record Block(String dir, byte[] names, int[] ends) {
            static Block of(String dir, List<String> files) {
                Collections.sort(files);
                byte[][] enc = new byte[files.size()][];
                int total = 0;
                for (int i = 0; i < enc.length; i++) {
                    enc[i] = files.get(i).getBytes(StandardCharsets.UTF_8);
                    total += enc[i].length;
                }
                byte[] names = new byte[total];
                int[] ends = new int[enc.length];
                int at = 0;
                for (int i = 0; i < enc.length; i++) {
                    System.arraycopy(enc[i], 0, names, at, enc[i].length);
                    at += enc[i].length;
                    ends[i] = at;
                }
                return new Block(dir, names, ends);
            }
        }

        void walk(Path start, int cls) throws IOException {
            List<Block> blocks = new ArrayList<>();
            Deque<List<String>> open = new ArrayDeque<>();
            FileVisitor<Path> visitor = new FileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    open.push(new ArrayList<>());
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    String name = file.getFileName().toString();
                    if (!options.accepts(name)) {
                        return FileVisitResult.CONTINUE;
                    }
                    if (attrs.isRegularFile()) {
                        open.peek().add(name);
                    } else if (attrs.isSymbolicLink()) {
                        LOG.warn("skipping broken symbolic link {}", file);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof FileSystemLoopException) {
                        // Not an error even in strict mode: the files it leads to are indexed once already.
                        LOG.warn("skipping {}: symbolic link loop", file);
                        skipped.add(file + ": symbolic link loop");
                        return FileVisitResult.CONTINUE;
                    }
                    unreadable(file, e);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    List<String> files = open.pop();
                    if (e != null) {
                        unreadable(dir, e);
                    }
                    if (!files.isEmpty()) {
                        String rel = root.relativize(dir).toString().replace(dir.getFileSystem().getSeparator(), "/");
                        blocks.add(Block.of(rel, files));
                    }
                    return FileVisitResult.CONTINUE;
                }
            };
            Files.walkFileTree(start, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, visitor);
            // torchvision walks sorted(os.walk(...)): directories in the string order of their paths.
            blocks.sort(Comparator.comparing(Block::dir));
            for (Block b : blocks) {
                int d = dirs.size();
                dirs.add(b.dir());
                if (d == dirClass.length) {
                    dirClass = Arrays.copyOf(dirClass, d * 2);
                }
                dirClass[d] = cls;
                int from = 0;
                for (int end : b.ends()) {
                    add(b.names(), from, end - from, d);
                    from = end;
                }
            }
        }

        private void unreadable(Path path, IOException e) throws IOException {
            String why = e instanceof AccessDeniedException ? "permission denied" : e.toString();
            if (options.strict()) {
                throw new IOException("cannot read " + path + " while indexing (strict mode): " + why, e);
            }
            LOG.warn("skipping unreadable {}: {}", path, why);
            skipped.add(path + ": " + why);
        }

        private void add(byte[] src, int from, int len, int dir) throws IOException {
            if ((long) nameBytes + len > Integer.MAX_VALUE - 16) {
                throw new IOException("too many files under " + root + ": the file names exceed 2 GiB");
            }
            if (nameBytes + len > names.length) {
                names = Arrays.copyOf(names, (int) Math.min(Integer.MAX_VALUE - 16,
                        Math.max((long) names.length * 2, (long) nameBytes + len)));
            }
            System.arraycopy(src, from, names, nameBytes, len);
            nameBytes += len;
            if (count == nameEnd.length) {
                nameEnd = Arrays.copyOf(nameEnd, count * 2);
                dirOf = Arrays.copyOf(dirOf, count * 2);
            }
            nameEnd[count] = nameBytes;
            dirOf[count] = dir;
            count++;
            if (count >= nextProgress) {
                LOG.info("indexing {}: {} images so far", root, count);
                nextProgress += 200_000;
            }
        }
    }
}
