package io.hgkd.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and loads Fashion-MNIST. Order of preference: an explicit folder, then Debian's
 * {@code dataset-fashion-mnist} package ({@value #DEBIAN_DIR}, the full 60 000 + 10 000 images), then the subset
 * embedded in this jar (the first 4000 training and 500 test images, made by
 * {@code tools/data/make_fashion_subset.py}). A log line says which one is used.
 *
 * <p>A folder holds the four standard files {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte} and {@code t10k-labels-idx1-ubyte}, each raw or with {@code .gz}.
 */
public final class FashionMnist {
    private static final Logger LOG = LoggerFactory.getLogger(FashionMnist.class);

    /** Where Debian's {@code dataset-fashion-mnist} package installs the files. */
    public static final String DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

    /** Class path folder of the embedded subset. */
    public static final String EMBEDDED_RESOURCE_DIR = "/io/hgkd/train/data/fashion-mnist/";

    /** Class names in label order. */
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /**
     * Pixel mean and standard deviation of the full 60 000-image training set on the [0, 1] scale (0.286041,
     * 0.353024, printed by {@code make_fashion_subset.py}); one value for all channels.
     */
    public static final Normalize NORMALIZE = Normalize.of(0.286041f, 0.353024f);

    /**
     * 28x28 images padded with black to {@code size x size} (32 for the 32x32 experiments), with {@code channels}
     * (1, or 3 replicated) channels, normalised with {@link #NORMALIZE}. No resampling, so strokes stay sharp.
     */
    public static Pipeline padded(int size, int channels) {
        if (size < 28) {
            throw new IllegalArgumentException("padded size must be at least 28, got " + size);
        }
        int extra = size - 28;
        return Pipeline.of(channels, NORMALIZE, new Pad(extra / 2, (extra + 1) / 2, extra / 2, (extra + 1) / 2));
    }

    /** 28x28 images resized to {@code size x size} with {@code interpolation}, otherwise as {@link #padded}. */
    public static Pipeline resized(int size, int channels, Interpolation interpolation) {
        return Pipeline.of(channels, NORMALIZE, new Resize(size, size, interpolation));
    }

    private static final String[] BASE_NAMES = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

    private FashionMnist() {
    }

    /** Where the data came from. */
    public enum Origin {
        /** A folder given by the caller. */
        EXPLICIT,
        /** Debian's {@code dataset-fashion-mnist} package. */
        DEBIAN,
        /** The subset embedded in the jar. */
        EMBEDDED
    }

    /**
     * The files of one location.
     *
     * @param origin which kind of location
     * @param where  the folder, or the class path folder for the embedded subset
     */
    public record Location(Origin origin, String where) {
    }

    /**
     * Training and test splits.
     *
     * @param train    the training images
     * @param test     the test images
     * @param location where they were read from
     */
    public record Splits(IdxDataset train, IdxDataset test, Location location) {
    }

    /**
     * Chooses a location: {@code explicitDir} if not null (it must hold the four files), else Debian's folder if it
     * holds them, else the embedded subset.
     *
     * @throws IOException if {@code explicitDir} is given but lacks a file (the message lists what is missing)
     */
    public static Location locate(Path explicitDir) throws IOException {
        if (explicitDir != null) {
            List<String> missing = missing(explicitDir);
            if (!missing.isEmpty()) {
                throw new IOException("Fashion-MNIST folder " + explicitDir.toAbsolutePath() + " lacks " + missing
                        + " (each raw or .gz)");
            }
            return new Location(Origin.EXPLICIT, explicitDir.toAbsolutePath().toString());
        }
        Path debian = Path.of(DEBIAN_DIR);
        if (missing(debian).isEmpty()) {
            return new Location(Origin.DEBIAN, DEBIAN_DIR);
        }
        return new Location(Origin.EMBEDDED, EMBEDDED_RESOURCE_DIR);
    }

    /** True if Debian's {@code dataset-fashion-mnist} files are installed. */
    public static boolean debianInstalled() {
        return missing(Path.of(DEBIAN_DIR)).isEmpty();
    }

    /** Loads from the best location: Debian's files if installed, else the embedded subset. */
    public static Splits load() throws IOException {
        return load(locate(null));
    }

    /** Loads from {@code explicitDir}, or, if it is null, as {@link #load()}. */
    public static Splits load(Path explicitDir) throws IOException {
        return load(locate(explicitDir));
    }

    /** The embedded subset (4000 training, 500 test images). */
    public static Splits embedded() throws IOException {
        return load(new Location(Origin.EMBEDDED, EMBEDDED_RESOURCE_DIR));
    }

    /** Loads from a location. */
    public static Splits load(Location location) throws IOException {
        IdxDataset train;
        IdxDataset test;
        if (location.origin() == Origin.EMBEDDED) {
            train = resource(BASE_NAMES[0], BASE_NAMES[1]);
            test = resource(BASE_NAMES[2], BASE_NAMES[3]);
        } else {
            Path dir = Path.of(location.where());
            train = IdxDataset.read(file(dir, BASE_NAMES[0]), file(dir, BASE_NAMES[1]));
            test = IdxDataset.read(file(dir, BASE_NAMES[2]), file(dir, BASE_NAMES[3]));
        }
        String what = switch (location.origin()) {
            case EXPLICIT -> "the given folder " + location.where();
            case DEBIAN -> "Debian's dataset-fashion-mnist at " + location.where();
            case EMBEDDED -> "the embedded subset (install Debian's dataset-fashion-mnist for the full set)";
        };
        LOG.info("Fashion-MNIST: {} training and {} test images from {}", train.size(), test.size(), what);
        return new Splits(train, test, location);
    }

    private static IdxDataset resource(String images, String labels) throws IOException {
        String im = EMBEDDED_RESOURCE_DIR + images + ".gz";
        String lb = EMBEDDED_RESOURCE_DIR + labels + ".gz";
        try (InputStream a = FashionMnist.class.getResourceAsStream(im);
                InputStream b = FashionMnist.class.getResourceAsStream(lb)) {
            if (a == null || b == null) {
                throw new IOException("the embedded Fashion-MNIST subset is missing from the class path (" + im
                        + "); rebuild hgkd-train, which copies src-test-data/fashion-mnist into the jar");
            }
            return IdxDataset.read(a, "classpath:" + im, b, "classpath:" + lb);
        }
    }

    private static Path file(Path dir, String base) {
        Path gz = dir.resolve(base + ".gz");
        return Files.isRegularFile(gz) ? gz : dir.resolve(base);
    }

    private static List<String> missing(Path dir) {
        List<String> out = new ArrayList<>();
        for (String b : BASE_NAMES) {
            if (!Files.isRegularFile(dir.resolve(b + ".gz")) && !Files.isRegularFile(dir.resolve(b))) {
                out.add(b);
            }
        }
        return out;
    }
}
