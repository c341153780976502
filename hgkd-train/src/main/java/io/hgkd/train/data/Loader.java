package io.hgkd.train.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches of a {@link Dataset}, decoded on worker threads ahead of the consumer.
 *
 * <p><b>Order and determinism.</b> Each epoch walks a permutation of the indices (seeded by (seed, epoch); identity
 * order without shuffling). Sample {@code i} of epoch {@code e} is made with its own generator seeded by
 * {@link #sampleSeed}(seed, e, i), and batches are assembled strictly in permutation order, so the batches of a seed
 * are identical whatever the number of workers.
 *
 * <p><b>Prefetch.</b> At most {@code prefetchBatches * batchSize} samples are in flight (queued, decoding, or
 * decoded and waiting); a worker picks up the next one as soon as the consumer takes one. The consumer only copies
 * decoded samples into the batch array, on its own thread (so ND4J arrays are created there).
 *
 * <p><b>Bad files.</b> A sample whose file is bad ({@link BadImageException}) is skipped with a WARN line naming
 * the file (the first time it is met; later epochs count it at DEBUG) and counted in the epoch summary, and its
 * batch is filled with the next good samples: every batch but the last has {@code batchSize} samples, and an epoch
 * with bad files has fewer samples (and possibly fewer batches). In strict mode the first bad file in permutation
 * order stops the epoch with a {@link DataLoadingException} naming it. Any other exception of a worker (a failing
 * transform, an I/O error that is not a bad file, an {@code Error}) is rethrown to the consumer as a
 * {@link DataLoadingException}; the loader never waits on a sample that nobody will produce.
 *
 * <p><b>Lifetime.</b> One epoch is open at a time: {@link #epoch} closes the previous one. {@link #close} cancels
 * queued work and stops the worker threads (daemon threads named {@code hgkd-loader-N-k}). Use from one consumer
 * thread.
 *
 * <pre>{@code
 * try (Loader loader = new Loader(folder.withPipeline(Pipeline.sparkPretrain(224)), LoaderConfig.of(64))) {
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         for (Batch b : loader.epoch(epoch)) {
 *             step(b.images());
 *         }
 *     }
 * }
 * }</pre>
 */
public final class Loader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Loader.class);
    private static final AtomicInteger IDS = new AtomicInteger();
    private static final int MAX_BAD_NAMES = 1000;

    /** Prefix of the worker threads' names. */
    public static final String THREAD_PREFIX = "hgkd-loader-";

    private final Dataset dataset;
    private final LoaderConfig config;
    private final ProgressListener listener;
    private final ExecutorService pool;
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final Set<Integer> warned = ConcurrentHashMap.newKeySet();
    private Epoch current;
    private boolean closed;

    /** A loader without a progress listener. */
    public Loader(Dataset dataset, LoaderConfig config) {
        this(dataset, config, ProgressListener.NONE);
    }

    /** A loader whose progress also goes to {@code listener}. */
    public Loader(Dataset dataset, LoaderConfig config, ProgressListener listener) {
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.config = Objects.requireNonNull(config, "config");
        this.listener = Objects.requireNonNull(listener, "listener");
        if (dataset.size() < 1) {
            throw new IllegalArgumentException("the dataset is empty");
        }
        if (config.workers() > 0) {
            String prefix = THREAD_PREFIX + IDS.incrementAndGet() + "-";
            AtomicInteger n = new AtomicInteger();
            ThreadFactory tf = r -> {
                Thread t = new Thread(r, prefix + n.getAndIncrement());
                t.setDaemon(true);
                threads.add(t);
                return t;
            };
            pool = Executors.newFixedThreadPool(config.workers(), tf);
        } else {
            pool = null;
        }
    }

    /** The dataset. */
    public Dataset dataset() {
        return dataset;
    }

    /** The settings. */
    public LoaderConfig config() {
        return config;
    }

    /** Batches in an epoch without bad files. */
    public int batchesPerEpoch() {
        int n = dataset.size();
        int b = config.batchSize();
        return config.dropLast() ? n / b : (n + b - 1) / b;
    }

    /**
     * Starts epoch {@code epoch} (closing the previous one if still open). The returned iterator is also a
     * single-use {@link Iterable}, for for-each loops.
     */
    public synchronized Epoch epoch(int epoch) {
        if (closed) {
            throw new IllegalStateException("the loader is closed");
        }
        if (current != null) {
            current.close();
        }
        current = new Epoch(epoch);
        return current;
    }

    /**
     * Cancels queued work and stops the worker threads; waits up to 30 s for a decode in progress to end. When it
     * returns normally, no worker thread is alive.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (current != null) {
            current.close();
        }
        if (pool != null) {
            pool.shutdownNow();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            try {
                // The pool counts as terminated just before its threads exit: join them too.
                boolean done = pool.awaitTermination(30, TimeUnit.SECONDS);
                for (Thread t : threads) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                    done &= !t.isAlive();
                }
                if (!done) {
                    LOG.warn("loader threads still busy 30 s after close; they are daemon threads and end with "
                            + "their current sample");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The seed of sample {@code index}'s generator in {@code epoch}: SplitMix64 mixing of the three values, so nearby
     * seeds, epochs and indices give unrelated streams.
     */
    public static long sampleSeed(long seed, int epoch, int index) {
        long h = mix64(seed ^ 0x5DEECE66DL);
        h = mix64(h + 0x9E3779B97F4A7C15L * (epoch + 1L));
        return mix64(h + 0xC2B2AE3D27D4EB4FL * (index + 1L));
    }

    /** The order of the indices in {@code epoch}: a seeded Fisher-Yates permutation, or identity without shuffle. */
    public static int[] order(int size, long seed, int epoch, boolean shuffle) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        if (shuffle) {
            SplittableRandom rng = new SplittableRandom(sampleSeed(seed, epoch, -1));
            for (int i = size - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** What a worker made of one index: a sample, or the reason its file is bad. */
    private record Outcome(int index, Sample sample, BadImageException bad) {
    }

    private Outcome load(int epoch, int index) throws Exception {
        SplittableRandom rng = new SplittableRandom(sampleSeed(config.seed(), epoch, index));
        try {
            Sample s = dataset.get(index, rng);
            if (s == null) {
                throw new IllegalStateException("the dataset returned null");
            }
            return new Outcome(index, s, null);
        } catch (BadImageException e) {
            return new Outcome(index, null, e);
        }
    }

    private record Pending(int index, Future<Outcome> future) {
    }

    /** The batches of one epoch. Not thread-safe. */
    public final class Epoch implements Iterator<Batch>, Iterable<Batch>, AutoCloseable {
        private final int epoch;
        private final int[] order;
        private final ArrayDeque<Pending> window = new ArrayDeque<>();
        private final int windowSize;
        private final long start = System.nanoTime();
        private long end;
        private final List<String> badNames = new ArrayList<>();
        private int nextPosition;
        private Batch ready;
        private boolean finished;
        private volatile boolean closed;
        /** The sample the consumer is waiting for (taken out of the window), so that close() can cancel it. */
        private Pending waiting;
        private long samples;
        private int batches;
        private int bad;
        private int dropped;
        private long lastLog = start;
        private int shapeC = -1;
        private int shapeH;
        private int shapeW;

        private Epoch(int epoch) {
            this.epoch = epoch;
            this.order = order(dataset.size(), config.seed(), epoch, config.shuffle());
            this.windowSize = (int) Math.min(Integer.MAX_VALUE,
                    Math.max((long) config.prefetchBatches() * config.batchSize(), config.workers()));
            refill();
        }

        /** The epoch number. */
        public int number() {
            return epoch;
        }

        @Override
        public Iterator<Batch> iterator() {
            return this;
        }

        @Override
        public boolean hasNext() {
            if (ready == null && !finished) {
                if (closed) {
                    throw new DataLoadingException("epoch " + epoch + " was closed before its end");
                }
                ready = assemble();
            }
            return ready != null;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("epoch " + epoch + " has no more batches");
            }
            Batch b = ready;
            ready = null;
            return b;
        }

        /** Progress so far, or the totals once the epoch is finished. */
        public EpochSummary summary() {
            long now = finished ? end : System.nanoTime();
            return new EpochSummary(epoch, order.length, samples, batches, bad, badNames, dropped,
                    dataset.skippedPaths().size(), (now - start) / 1e9, finished);
        }

        /**
         * Cancels the samples in flight (queued ones never run; one being decoded finishes and is discarded);
         * further calls to {@link #hasNext} throw a {@link DataLoadingException}, as does a consumer waiting in
         * {@link #next}. Idempotent; may be called from another thread.
         */
        @Override
        public void close() {
            synchronized (window) {
                if (closed) {
                    return;
                }
                closed = true;
                for (Pending p : window) {
                    // No interrupt: a decoder interrupted mid-read would only report a spurious error.
                    p.future().cancel(false);
                }
                window.clear();
                if (waiting != null) {
                    waiting.future().cancel(false);
                }
            }
        }

        private void refill() {
            if (pool == null) {
                return;
            }
            synchronized (window) {
                while (!closed && window.size() < windowSize && nextPosition < order.length) {
                    int index = order[nextPosition++];
                    window.add(new Pending(index, pool.submit(() -> load(epoch, index))));
                }
            }
        }

        private boolean more() {
            if (pool == null) {
                return nextPosition < order.length;
            }
            synchronized (window) {
                return !window.isEmpty();
            }
        }

        private Outcome take() {
            if (pool == null) {
                int index = order[nextPosition++];
                try {
                    return load(epoch, index);
                } catch (Exception | Error e) {
                    throw fail(index, e);
                }
            }
            Pending p;
            synchronized (window) {
                if (closed) {
                    throw new DataLoadingException("epoch " + epoch + " was closed");
                }
                p = window.poll();
                waiting = p;
            }
            try {
                Outcome o = p.future().get();
                if (closed) {
                    throw new DataLoadingException("epoch " + epoch + " was closed while waiting for "
                            + dataset.describe(p.index()));
                }
                refill();
                return o;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new DataLoadingException("interrupted while waiting for " + dataset.describe(p.index()), e);
            } catch (CancellationException e) {
                throw new DataLoadingException("epoch " + epoch + " was closed while waiting for "
                        + dataset.describe(p.index()), e);
            } catch (ExecutionException e) {
                throw fail(p.index(), e.getCause() != null ? e.getCause() : e);
            }
        }

        private DataLoadingException fail(int index, Throwable cause) {
            close();
            return new DataLoadingException("loading " + dataset.describe(index) + " (index " + index + ", epoch "
                    + epoch + ") failed: " + cause, cause);
        }

        private Batch assemble() {
            int b = config.batchSize();
            List<Sample> got = new ArrayList<>(b);
            int[] indices = new int[b];
            while (got.size() < b && more()) {
                Outcome o = take();
                int index = o.index();
                if (o.bad() != null) {
                    skip(index, o.bad());
                    continue;
                }
                Sample s = o.sample();
                checkShape(index, s);
                indices[got.size()] = index;
                got.add(s);
            }
            if (closed) {
                // Closed from another thread between two samples: not an end of epoch.
                throw new DataLoadingException("epoch " + epoch + " was closed before its end");
            }
            if (got.isEmpty() || (got.size() < b && config.dropLast())) {
                dropped += got.size();
                finish();
                return null;
            }
            int n = got.size();
            int per = shapeC * shapeH * shapeW;
            float[] data = new float[Math.multiplyExact(n, per)];
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                Sample s = got.get(i);
                System.arraycopy(s.data(), 0, data, i * per, per);
                labels[i] = s.label();
            }
            INDArray images = Nd4j.create(data, new long[] {n, shapeC, shapeH, shapeW}, 'c');
            Batch batch = new Batch(images, labels, java.util.Arrays.copyOf(indices, n), epoch, batches);
            samples += n;
            batches++;
            progress();
            if (!more()) {
                finish();
            }
            return batch;
        }

        private void checkShape(int index, Sample s) {
            if (shapeC < 0) {
                shapeC = s.channels();
                shapeH = s.height();
                shapeW = s.width();
            } else if (s.channels() != shapeC || s.height() != shapeH || s.width() != shapeW) {
                close();
                throw new DataLoadingException("sample " + dataset.describe(index) + " is " + s.shape()
                        + " but earlier samples are " + shapeC + "x" + shapeH + "x" + shapeW
                        + "; end the pipeline with a fixed-size crop or resize");
            }
        }

        private void skip(int index, BadImageException e) {
            if (config.strict()) {
                close();
                throw new DataLoadingException("bad image (strict mode): " + e.getMessage(), e);
            }
            bad++;
            if (badNames.size() < MAX_BAD_NAMES) {
                badNames.add(e.file());
            }
            if (warned.add(index)) {
                LOG.warn("skipping bad image {}: {}", e.file(), e.reason());
            } else {
                LOG.debug("skipping bad image {} again: {}", e.file(), e.reason());
            }
        }

        private void progress() {
            listener.onBatch(summary());
            long now = System.nanoTime();
            if (config.logEverySeconds() > 0 && now - lastLog >= config.logEverySeconds() * 1e9) {
                lastLog = now;
                EpochSummary s = summary();
                LOG.info("epoch {}: {}/{} samples, {} batches, {} img/s{}", epoch, s.samples(), s.datasetSize(),
                        s.batches(), String.format(Locale.ROOT, "%.1f", s.imagesPerSecond()),
                        bad > 0 ? ", " + bad + " bad files skipped" : "");
            }
        }

        private void finish() {
            if (finished) {
                return;
            }
            finished = true;
            end = System.nanoTime();
            close();
            EpochSummary s = summary();
            LOG.info("epoch {} done: {} samples in {} batches, {} s, {} img/s, {} bad files skipped{}{}{}", epoch,
                    s.samples(), s.batches(), String.format(Locale.ROOT, "%.1f", s.seconds()),
                    String.format(Locale.ROOT, "%.1f", s.imagesPerSecond()), bad,
                    bad > 0 ? " " + abbreviate(badNames) : "",
                    dropped > 0 ? ", " + dropped + " dropped (drop-last)" : "",
                    s.unreadablePaths() > 0 ? ", " + s.unreadablePaths() + " unreadable paths skipped while indexing "
                            + abbreviate(dataset.skippedPaths()) : "");
            listener.onEpochEnd(s);
        }
    }

    private static String abbreviate(List<String> names) {
        int show = Math.min(10, names.size());
        String s = String.join(", ", names.subList(0, show));
        return "(" + s + (names.size() > show ? ", ..." : "") + ")";
    }
}
