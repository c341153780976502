package io.hgkd.train.trainer;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.hgkd.train.data.Dataset;
import io.hgkd.train.data.FashionMnist;
import io.hgkd.train.data.IdxDataset;
import io.hgkd.train.data.ImageDataset;
import io.hgkd.train.data.ImageFolder;
import io.hgkd.train.data.Loader;
import io.hgkd.train.data.LoaderConfig;
import io.hgkd.train.data.Normalize;
import io.hgkd.train.data.Pipeline;
import io.hgkd.train.data.RandomHorizontalFlip;
import io.hgkd.train.data.RandomResizedCrop;
import io.hgkd.train.data.Sample;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Where a job's images come from, and how they are batched.
 *
 * @param source    {@link Source}
 * @param path      directory of the Fashion-MNIST idx files for {@link Source#FASHION_MNIST} (null: the usual
 *                  places, see {@link FashionMnist#load()}); the root folder for {@link Source#IMAGE_FOLDER}
 *                  (required); unused otherwise
 * @param limit     use only the first {@code limit} training (and evaluation) examples; 0 = all
 * @param imageSize side of the square input, &gt;= 28 for Fashion-MNIST (padded with black)
 * @param channels  1 or 3 (Fashion-MNIST's grey replicated; image-folder images decoded to this many)
 * @param numClasses classes of {@link Source#SYNTHETIC} data (ignored for Fashion-MNIST, which has 10, and for
 *                  image folders, whose class folders are counted)
 * @param batchSize images per step
 * @param workers   decoding threads (0 = on the training thread); the batches do not depend on it
 * @param dropLast  drop a short last batch (keeps every step the same size)
 * @param labels    the labelled subset a fine-tuning job (and a linear probe) trains on, or null (the default, and
 *                  what an absent JSON field means) for every training label; see {@link LabelSubset}. Pretraining
 *                  jobs ignore it (they use every training image, unlabelled), evaluation always uses the whole
 *                  evaluation split. Serialised only when set, so configs without it stay as they were.
 */
public record DataConfig(Source source, String path, int limit, int imageSize, int channels, int numClasses,
                         int batchSize, int workers, boolean dropLast,
                         @JsonInclude(JsonInclude.Include.NON_NULL) LabelSubset labels) {

    /**
     * A class-stratified subset of the training labels: every class keeps {@code round(fraction * n_k)} of its
     * {@code n_k} training examples (so balanced data such as Fashion-MNIST stays balanced: 1% = 60 per class), chosen
     * by a per-class shuffle seeded from {@code seed} alone. The subset is therefore the same for every student and
     * training seed at a given (fraction, seed), and smaller fractions are prefixes of larger ones with the same seed
     * (the 1% subset lies inside the 10% subset). Applied after {@code limit}. Checked when the data are built: a
     * class left without examples is an error naming it.
     *
     * @param fraction in (0, 1]; 1 keeps every example (in the original order)
     * @param seed     the subset's seed, independent of the job's training seed
     */
    public record LabelSubset(double fraction, long seed) {
        /** Validates the fraction. */
        public LabelSubset {
            if (!(fraction > 0 && fraction <= 1)) {
                throw new IllegalArgumentException("data.labels.fraction must be in (0, 1] (1 = all labels), got "
                        + fraction);
            }
        }

        /**
         * The chosen indices of a training set with these labels, ascending.
         *
         * @param labels     class of every example, in [0, numClasses)
         * @param numClasses K
         * @throws IllegalArgumentException if a class would keep no example, naming it and its count
         */
        public int[] select(int[] labels, int numClasses) {
            List<List<Integer>> byClass = new java.util.ArrayList<>();
            for (int k = 0; k < numClasses; k++) {
                byClass.add(new java.util.ArrayList<>());
            }
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < 0 || labels[i] >= numClasses) {
                    throw new IllegalArgumentException("data.labels: example " + i + " has label " + labels[i]
                            + " outside [0, " + numClasses + ")");
                }
                byClass.get(labels[i]).add(i);
            }
            java.util.BitSet keep = new java.util.BitSet(labels.length);
            for (int k = 0; k < numClasses; k++) {
                List<Integer> idx = byClass.get(k);
                if (idx.isEmpty()) {
                    continue; // a class absent from the data (e.g. a small limit) has nothing to keep
                }
                int m = (int) Math.round(fraction * idx.size());
                if (m < 1) {
                    throw new IllegalArgumentException("data.labels.fraction " + fraction + " leaves class " + k
                            + " with no labelled example (it has " + idx.size() + "); use a fraction >= "
                            + (0.5 / idx.size()) + " or more data");
                }
                // Fisher-Yates with a generator per (seed, class): independent of the other classes' sizes
                java.util.SplittableRandom r = new java.util.SplittableRandom(Seeds.derive(seed, "labels", k));
                Integer[] a = idx.toArray(new Integer[0]);
                for (int i = a.length - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1);
                    Integer t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                }
                for (int i = 0; i < m; i++) {
                    keep.set(a[i]);
                }
            }
            return keep.stream().toArray();
        }
    }

    /** Dataset kinds. */
    public enum Source {
        /** The 4000/500-image Fashion-MNIST subset embedded in hgkd-train (no download). */
        FASHION_MNIST_EMBEDDED,
        /** Full Fashion-MNIST from {@code path} or the usual places. */
        FASHION_MNIST,
        /**
         * Seeded random images whose per-channel mean depends on the class, {@code limit} of them (training) and
         * {@code limit / 4} (evaluation): a separable toy task for tests.
         */
        SYNTHETIC,
        /**
         * Decoded image files under {@code path}. The training images are {@code path/train} if that folder exists,
         * else {@code path} itself; the evaluation images are {@code path/val} if that folder exists, else the
         * training folder (so evaluation then measures training-set accuracy). Fine-tuning reads them in ImageNet
         * layout (one subfolder per class, {@link ImageFolder#labeled}) with {@code RandomResizedCrop(imageSize)},
         * horizontal flip and ImageNet normalisation for training and {@link Pipeline#imagenetEval} for
         * evaluation. Pretraining jobs (distillation, MAE) ignore labels: they read every image below the training
         * folder ({@link ImageFolder#unlabeled}, so class folders or a flat tree both work) with
         * {@link Pipeline#sparkPretrain}. With 1 channel the normalisation is ImageNet's grey mean 0.449 and std
         * 0.226. Unreadable or corrupt files are skipped and logged by the loader (not strict).
         */
        IMAGE_FOLDER
    }

    /** Grey (1-channel) counterpart of {@link Normalize#IMAGENET}: the mean of its means and stds. */
    private static final Normalize IMAGENET_GREY = Normalize.of(0.449f, 0.226f);

    /** A config with every training label ({@code labels} null). */
    public DataConfig(Source source, String path, int limit, int imageSize, int channels, int numClasses,
                      int batchSize, int workers, boolean dropLast) {
        this(source, path, limit, imageSize, channels, numClasses, batchSize, workers, dropLast, null);
    }

    /** Validates the fields. */
    public DataConfig {
        if (source == null) {
            throw new IllegalArgumentException("data source must not be null");
        }
        if (limit < 0) {
            throw new IllegalArgumentException("data limit must be >= 0 (0 = all), got " + limit);
        }
        if (source == Source.SYNTHETIC && (limit < 4 || numClasses < 2)) {
            throw new IllegalArgumentException("SYNTHETIC data needs limit >= 4 and numClasses >= 2, got " + limit
                    + ", " + numClasses);
        }
        if (source == Source.IMAGE_FOLDER && (path == null || path.isBlank())) {
            throw new IllegalArgumentException("IMAGE_FOLDER data needs a path (the root folder)");
        }
        if ((source == Source.FASHION_MNIST_EMBEDDED || source == Source.FASHION_MNIST) && imageSize < 28) {
            throw new IllegalArgumentException("Fashion-MNIST needs imageSize >= 28 (padded), got " + imageSize);
        }
        if (imageSize < 1 || channels != 1 && channels != 3) {
            throw new IllegalArgumentException("imageSize must be positive and channels 1 or 3, got " + imageSize
                    + ", " + channels);
        }
        if (batchSize < 1 || workers < 0) {
            throw new IllegalArgumentException("batchSize must be >= 1 and workers >= 0, got " + batchSize + ", "
                    + workers);
        }
    }

    /** This config fine-tuning on the labelled subset {@code (fraction, seed)}; fraction 1 means every label. */
    public DataConfig withLabels(double fraction, long seed) {
        LabelSubset l = fraction == 1 ? null : new LabelSubset(fraction, seed);
        return new DataConfig(source, path, limit, imageSize, channels, numClasses, batchSize, workers, dropLast, l);
    }

    /**
     * Fills the optional fields absent from a JSON {@code data} object with their defaults ({@code labels}: null),
     * for readers that refuse missing creator properties (the CLI); configs written before a field existed then
     * still load.
     */
    public static void fillOptionalDefaults(com.fasterxml.jackson.databind.node.ObjectNode data) {
        if (!data.has("labels")) {
            data.putNull("labels");
        }
    }

    /** The embedded Fashion-MNIST subset, first {@code limit} images, padded to 32, 3 channels. */
    public static DataConfig fashionMnistEmbedded(int limit, int batchSize) {
        return new DataConfig(Source.FASHION_MNIST_EMBEDDED, null, limit, 32, 3, 10, batchSize, 1, true);
    }

    /** {@code n} synthetic images of {@code size} px in {@code classes} classes. */
    public static DataConfig synthetic(int n, int size, int classes, int batchSize) {
        return new DataConfig(Source.SYNTHETIC, null, n, size, 3, classes, batchSize, 1, true);
    }

    /** All images under {@code root} (see {@link Source#IMAGE_FOLDER}) at {@code size} px, 3 channels. */
    public static DataConfig imageFolder(String root, int size, int batchSize, int workers) {
        return new DataConfig(Source.IMAGE_FOLDER, root, 0, size, 3, 0, batchSize, workers, true);
    }

    /**
     * Number of classes of the data; for an image folder the number of subfolders of its training folder.
     *
     * @throws UncheckedIOException if an image folder's training folder cannot be listed
     */
    public int classes() {
        if (source == Source.IMAGE_FOLDER) {
            int n = 0;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(trainFolder())) {
                for (Path p : ds) {
                    n += Files.isDirectory(p) ? 1 : 0;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list the class folders of " + trainFolder(), e);
            }
            return n;
        }
        return source == Source.SYNTHETIC ? numClasses : FashionMnist.CLASSES.size();
    }

    /** The training set, labeled, restricted to the {@link #labels()} subset if one is set (for fine-tuning). */
    public Dataset train() throws IOException {
        return labelled(dataset(true, true));
    }

    /**
     * The labelled training subset of {@link #train()} with the evaluation transforms (no random augmentation), for
     * features of a frozen encoder (linear probing). Equals {@link #train()} for Fashion-MNIST and synthetic data,
     * whose training pipeline is not random.
     */
    public Dataset trainForFeatures() throws IOException {
        return labelled(dataset(true, false));
    }

    /**
     * The training set of a pretraining job, whose labels are ignored: for {@link Source#IMAGE_FOLDER} every image
     * below the training folder with SparK's pretraining augmentation; otherwise {@link #train()}.
     */
    public Dataset pretrain() throws IOException {
        if (source != Source.IMAGE_FOLDER) {
            return dataset(true, true);
        }
        Pipeline p = new Pipeline(channels, List.of(RandomResizedCrop.spark(imageSize), RandomHorizontalFlip.half()),
                normalize());
        return head(new ImageDataset(ImageFolder.unlabeled(trainFolder()), p), limit);
    }

    /** The evaluation set (Fashion-MNIST's test split; other synthetic images). */
    public Dataset eval() throws IOException {
        return dataset(false, false);
    }

    /**
     * A loader over {@code dataset} whose shuffle and per-sample randomness derive from {@code seed}; shuffled for
     * training, in order for evaluation.
     */
    public Loader loader(Dataset dataset, long seed, boolean training) {
        LoaderConfig c = LoaderConfig.of(batchSize).withWorkers(workers).withSeed(seed).withShuffle(training)
                .withDropLast(training && dropLast).withStrict(false).withLogEverySeconds(0);
        return new Loader(dataset, c);
    }

    private Path trainFolder() {
        Path root = Path.of(path);
        Path t = root.resolve("train");
        return Files.isDirectory(t) ? t : root;
    }

    private Path evalFolder() {
        Path v = Path.of(path).resolve("val");
        return Files.isDirectory(v) ? v : trainFolder();
    }

    private Normalize normalize() {
        return channels == 3 ? Normalize.IMAGENET : IMAGENET_GREY;
    }

    /** {@code d} restricted to {@link #labels()}, or {@code d} itself when every label is used. */
    private Dataset labelled(Dataset d) {
        if (labels == null || labels.fraction() == 1) {
            return d;
        }
        int[] y = new int[d.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = labelOf(d, i);
        }
        return new Subset(d, labels.select(y, classes()));
    }

    /** The label of example {@code i} without decoding its image. */
    private static int labelOf(Dataset d, int i) {
        if (d instanceof ImageDataset id) {
            return id.source().label(i);
        }
        if (d instanceof Head h) {
            return labelOf(h.d(), i);
        }
        if (d instanceof Synthetic s) {
            return s.label(i);
        }
        throw new IllegalStateException("cannot read labels of " + d.getClass().getSimpleName());
    }

    private Dataset dataset(boolean training, boolean augment) throws IOException {
        if (source == Source.IMAGE_FOLDER) {
            Pipeline p = training && augment
                    ? new Pipeline(channels, List.of(RandomResizedCrop.of(imageSize), RandomHorizontalFlip.half()),
                            normalize())
                    : new Pipeline(channels, Pipeline.imagenetEval(imageSize).transforms(), normalize());
            return head(new ImageDataset(ImageFolder.labeled(training ? trainFolder() : evalFolder()), p), limit);
        }
        if (source == Source.SYNTHETIC) {
            return new Synthetic(training ? limit : Math.max(1, limit / 4), imageSize, channels, numClasses,
                    training ? 1 : 2);
        }
        FashionMnist.Splits s = source == Source.FASHION_MNIST_EMBEDDED ? FashionMnist.embedded()
                : path == null ? FashionMnist.load() : FashionMnist.load(Path.of(path));
        IdxDataset d = training ? s.train() : s.test();
        if (limit > 0 && limit < d.size()) {
            d = d.head(limit);
        }
        return d.withPipeline(FashionMnist.padded(imageSize, channels));
    }

    private static Dataset head(Dataset d, int limit) {
        return limit > 0 && limit < d.size() ? new Head(d, limit) : d;
    }

    /** The examples {@code indices} of a dataset, renumbered from 0. */
    private record Subset(Dataset d, int[] indices) implements Dataset {
        @Override
        public int size() {
            return indices.length;
        }

        @Override
        public Sample get(int index, RandomGenerator rng) throws IOException {
            return d.get(indices[index], rng);
        }

        @Override
        public String describe(int index) {
            return d.describe(indices[index]);
        }

        @Override
        public int numClasses() {
            return d.numClasses();
        }

        @Override
        public java.util.List<String> skippedPaths() {
            return d.skippedPaths();
        }
    }

    /** The first {@code size} examples of a dataset. */
    private record Head(Dataset d, int size) implements Dataset {
        @Override
        public Sample get(int index, RandomGenerator rng) throws IOException {
            return d.get(index, rng);
        }

        @Override
        public String describe(int index) {
            return d.describe(index);
        }

        @Override
        public int numClasses() {
            return d.numClasses();
        }

        @Override
        public java.util.List<String> skippedPaths() {
            return d.skippedPaths();
        }
    }

    /** Class {@code k} has mean {@code 0.5 * (k - (K-1)/2)} in channel {@code k % C}, plus unit Gaussian noise. */
    private record Synthetic(int size, int imageSize, int channels, int classes, long stream) implements Dataset {
        /** The label of example {@code index} (the first draw of its generator). */
        int label(int index) {
            return new java.util.SplittableRandom(Seeds.derive(stream, "synthetic", index)).nextInt(classes);
        }

        @Override
        public Sample get(int index, RandomGenerator ignored) {
            // per-index generator, independent of the loader's augmentation stream, so the data are fixed
            java.util.SplittableRandom r = new java.util.SplittableRandom(Seeds.derive(stream, "synthetic", index));
            int label = r.nextInt(classes);
            float[] x = new float[channels * imageSize * imageSize];
            int plane = imageSize * imageSize;
            float shift = (float) (0.5 * (label - (classes - 1) / 2.0));
            for (int i = 0; i < x.length; i++) {
                double u1 = 1 - r.nextDouble();
                double u2 = r.nextDouble();
                float noise = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
                x[i] = noise + (i / plane == label % channels ? shift : 0f);
            }
            return new Sample(x, channels, imageSize, imageSize, label);
        }

        @Override
        public int numClasses() {
            return classes;
        }
    }
}
