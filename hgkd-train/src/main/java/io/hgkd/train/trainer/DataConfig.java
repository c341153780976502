package io.hgkd.train.trainer;

import io.hgkd.train.data.Dataset;
import io.hgkd.train.data.FashionMnist;
import io.hgkd.train.data.IdxDataset;
import io.hgkd.train.data.Loader;
import io.hgkd.train.data.LoaderConfig;
import io.hgkd.train.data.Sample;
import java.io.IOException;
import java.nio.file.Path;
import java.util.random.RandomGenerator;

/**
 * Where a job's images come from, and how they are batched.
 *
 * @param source    {@link Source}
 * @param path      directory of the Fashion-MNIST idx files for {@link Source#FASHION_MNIST} (null: the usual
 *                  places, see {@link FashionMnist#load()}); unused otherwise
 * @param limit     use only the first {@code limit} training (and evaluation) examples; 0 = all
 * @param imageSize side of the square input, &gt;= 28 for Fashion-MNIST (padded with black)
 * @param channels  1 or 3 (Fashion-MNIST's grey replicated)
 * @param numClasses classes of {@link Source#SYNTHETIC} data (ignored for Fashion-MNIST, which has 10)
 * @param batchSize images per step
 * @param workers   decoding threads (0 = on the training thread); the batches do not depend on it
 * @param dropLast  drop a short last batch (keeps every step the same size)
 */
public record DataConfig(Source source, String path, int limit, int imageSize, int channels, int numClasses,
                         int batchSize, int workers, boolean dropLast) {

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
        SYNTHETIC
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
        if (source != Source.SYNTHETIC && imageSize < 28) {
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

    /** The embedded Fashion-MNIST subset, first {@code limit} images, padded to 32, 3 channels. */
    public static DataConfig fashionMnistEmbedded(int limit, int batchSize) {
        return new DataConfig(Source.FASHION_MNIST_EMBEDDED, null, limit, 32, 3, 10, batchSize, 1, true);
    }

    /** {@code n} synthetic images of {@code size} px in {@code classes} classes. */
    public static DataConfig synthetic(int n, int size, int classes, int batchSize) {
        return new DataConfig(Source.SYNTHETIC, null, n, size, 3, classes, batchSize, 1, true);
    }

    /** Number of classes of the data. */
    public int classes() {
        return source == Source.SYNTHETIC ? numClasses : FashionMnist.CLASSES.size();
    }

    /** The training set. */
    public Dataset train() throws IOException {
        return dataset(true);
    }

    /** The evaluation set (Fashion-MNIST's test split; other synthetic images). */
    public Dataset eval() throws IOException {
        return dataset(false);
    }

    /**
     * A loader over {@code dataset} whose shuffle and per-sample randomness derive from {@code seed}; shuffled for
     * training, in order for evaluation.
     */
    public Loader loader(Dataset dataset, long seed, boolean training) {
        LoaderConfig c = LoaderConfig.of(batchSize).withWorkers(workers).withSeed(seed).withShuffle(training)
                .withDropLast(training && dropLast).withLogEverySeconds(0);
        return new Loader(dataset, c);
    }

    private Dataset dataset(boolean training) throws IOException {
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

    /** Class {@code k} has mean {@code 0.5 * (k - (K-1)/2)} in channel {@code k % C}, plus unit Gaussian noise. */
    private record Synthetic(int size, int imageSize, int channels, int classes, long stream) implements Dataset {
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
