package io.hgkd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LoaderTest {

    /** Images of varying size with deterministic content; some indices can be bad files. */
    static final class Synthetic implements ImageSource {
        final int n;
        final Set<Integer> bad;
        final AtomicInteger reads = new AtomicInteger();

        Synthetic(int n, Set<Integer> bad) {
            this.n = n;
            this.bad = bad;
        }

        @Override
        public int size() {
            return n;
        }

        @Override
        public int label(int index) {
            return index % 5;
        }

        @Override
        public int numClasses() {
            return 5;
        }

        @Override
        public String describe(int index) {
            return "synthetic/" + index + ".jpg";
        }

        @Override
        public ByteImage read(int index, int channels) throws IOException {
            reads.incrementAndGet();
            if (bad.contains(index)) {
                throw new BadImageException(describe(index), "corrupt (test)");
            }
            int h = 20 + index % 7;
            int w = 24 + index % 5;
            byte[] px = new byte[h * w * 3];
            new SplittableRandom(index).nextBytes(px);
            return new ByteImage(3, h, w, px).toChannels(channels);
        }
    }

    private static final Pipeline AUGMENT = Pipeline.of(3, Normalize.IMAGENET, RandomResizedCrop.spark(16),
            RandomHorizontalFlip.half());

    private static LoaderConfig config(int batch, int workers) {
        return LoaderConfig.of(batch).withWorkers(workers).withSeed(42).withLogEverySeconds(0);
    }

    private static List<Batch> run(Loader loader, int epoch) {
        List<Batch> out = new ArrayList<>();
        for (Batch b : loader.epoch(epoch)) {
            out.add(b);
        }
        return out;
    }

    @AfterEach
    void noLoaderThreadsLeft() throws InterruptedException {
        // Every test closes its loaders; their worker threads must be gone.
        assertEquals(List.of(), loaderThreads());
    }

    static List<String> loaderThreads() {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(Loader.THREAD_PREFIX)) {
                names.add(t.getName());
            }
        }
        return names;
    }

    @Test
    void sameSeedSameBatchesWithOneOrThreeThreads() {
        Dataset ds = new Synthetic(37, Set.of()).withPipeline(AUGMENT);
        List<List<Batch>> runs = new ArrayList<>();
        for (int workers : new int[] {1, 3, 0}) {
            try (Loader loader = new Loader(ds, config(8, workers))) {
                List<Batch> both = new ArrayList<>(run(loader, 0));
                both.addAll(run(loader, 1));
                runs.add(both);
            }
        }
        List<Batch> ref = runs.get(0);
        assertEquals(10, ref.size());
        for (List<Batch> other : runs.subList(1, 3)) {
            assertEquals(ref.size(), other.size());
            for (int i = 0; i < ref.size(); i++) {
                assertArrayEquals(ref.get(i).indices(), other.get(i).indices(), "batch " + i);
                assertArrayEquals(ref.get(i).labels(), other.get(i).labels());
                assertEquals(ref.get(i).images(), other.get(i).images(), "batch " + i + " pixels");
            }
        }
        Batch first = ref.get(0);
        assertArrayEquals(new long[] {8, 3, 16, 16}, first.images().shape());
        assertEquals(first.indices()[3] % 5, first.labels()[3]);
        assertArrayEquals(new int[] {8, 8, 8, 8, 5}, ref.subList(0, 5).stream().mapToInt(Batch::size).toArray());
    }

    @Test
    void epochsAreShuffledDifferentlyAndCoverEveryIndexOnce() {
        Dataset ds = new Synthetic(50, Set.of()).withPipeline(AUGMENT);
        try (Loader loader = new Loader(ds, config(7, 2))) {
            int[] e0 = indices(run(loader, 0));
            int[] e1 = indices(run(loader, 1));
            int[] e0again = indices(run(loader, 0));
            assertFalse(Arrays.equals(e0, e1), "epochs 0 and 1 have the same order");
            assertArrayEquals(e0, e0again);
            int[] sorted = e1.clone();
            Arrays.sort(sorted);
            int[] all = new int[50];
            Arrays.setAll(all, i -> i);
            assertArrayEquals(all, sorted);
        }
        // Another seed, another order; no shuffle, index order.
        assertFalse(Arrays.equals(Loader.order(50, 1, 0, true), Loader.order(50, 2, 0, true)));
        int[] identity = Loader.order(5, 1, 3, false);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, identity);
        assertNotEquals(Loader.sampleSeed(0, 0, 1), Loader.sampleSeed(0, 1, 0));
    }

    private static int[] indices(List<Batch> batches) {
        return batches.stream().flatMapToInt(b -> Arrays.stream(b.indices())).toArray();
    }

    @Test
    void dropLastAndTheEpochSummary() {
        Dataset ds = new Synthetic(10, Set.of()).withPipeline(AUGMENT);
        List<EpochSummary> ends = new ArrayList<>();
        AtomicInteger perBatch = new AtomicInteger();
        ProgressListener l = new ProgressListener() {
            @Override
            public void onBatch(EpochSummary p) {
                perBatch.incrementAndGet();
            }

            @Override
            public void onEpochEnd(EpochSummary s) {
                ends.add(s);
            }
        };
        try (Loader keep = new Loader(ds, config(4, 2), l);
                Loader drop = new Loader(ds, config(4, 2).withDropLast(true), l)) {
            assertEquals(3, keep.batchesPerEpoch());
            assertEquals(2, drop.batchesPerEpoch());
            assertArrayEquals(new int[] {4, 4, 2}, run(keep, 0).stream().mapToInt(Batch::size).toArray());
            Loader.Epoch e = drop.epoch(0);
            List<Batch> dropped = new ArrayList<>();
            e.forEachRemaining(dropped::add);
            assertArrayEquals(new int[] {4, 4}, dropped.stream().mapToInt(Batch::size).toArray());
            EpochSummary s = e.summary();
            assertTrue(s.finished());
            assertEquals(8, s.samples());
            assertEquals(2, s.dropped());
            assertEquals(0, s.badFiles());
        }
        assertEquals(2, ends.size());
        assertEquals(10, ends.get(0).samples());
        assertEquals(3, ends.get(0).batches());
        assertEquals(5, perBatch.get());
    }

    @Test
    void badFilesAreSkippedAndBatchesFilled() {
        Synthetic src = new Synthetic(20, Set.of(2, 5, 19));
        Dataset ds = src.withPipeline(AUGMENT);
        try (LogCapture log = new LogCapture(); Loader loader = new Loader(ds, config(4, 3).withShuffle(false))) {
            Loader.Epoch e = loader.epoch(0);
            List<Batch> batches = new ArrayList<>();
            e.forEachRemaining(batches::add);
            assertArrayEquals(new int[] {4, 4, 4, 4, 1}, batches.stream().mapToInt(Batch::size).toArray());
            assertArrayEquals(new int[] {0, 1, 3, 4}, batches.get(0).indices());
            assertArrayEquals(new int[] {6, 7, 8, 9}, batches.get(1).indices());
            EpochSummary s = e.summary();
            assertEquals(3, s.badFiles());
            assertEquals(17, s.samples());
            assertEquals(List.of("synthetic/2.jpg", "synthetic/5.jpg", "synthetic/19.jpg"), s.badFileNames());
            String text = log.text();
            assertTrue(text.contains("skipping bad image synthetic/5.jpg: corrupt (test)"), text);
            assertTrue(text.contains("3 bad files skipped"), text);
            // A second epoch counts them again but does not repeat the warnings.
            int warnings = count(log.text(), "WARN");
            assertEquals(3, warnings, text);
            Loader.Epoch e1 = loader.epoch(1);
            e1.forEachRemaining(b -> {
            });
            assertEquals(3, e1.summary().badFiles());
            assertEquals(warnings, count(log.text(), "WARN"));
        }
        try (Loader strict = new Loader(ds, config(4, 3).withShuffle(false).withStrict(true))) {
            Loader.Epoch e = strict.epoch(0);
            DataLoadingException ex = assertThrows(DataLoadingException.class, () -> e.forEachRemaining(b -> {
            }));
            assertTrue(ex.getMessage().contains("synthetic/2.jpg") && ex.getMessage().contains("strict"),
                    ex.getMessage());
            assertTrue(ex.getCause() instanceof BadImageException);
        }
    }

    private static int count(String text, String word) {
        int n = 0;
        for (int i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void aThrowingTransformSurfacesInTheConsumer() {
        for (int workers : new int[] {0, 1, 3}) {
            ImageTransform boom = (img, rng) -> {
                if (img.height() == 20 + 13 % 7 && img.width() == 24 + 13 % 5) {
                    throw new IllegalStateException("transform failed on purpose");
                }
                return img;
            };
            Dataset ds = new Synthetic(40, Set.of()).withPipeline(
                    Pipeline.of(3, Normalize.NONE, boom, CenterCrop.of(16)));
            try (Loader loader = new Loader(ds, config(4, workers).withShuffle(false))) {
                Loader.Epoch e = loader.epoch(0);
                DataLoadingException ex = assertThrows(DataLoadingException.class, () -> e.forEachRemaining(b -> {
                }));
                assertTrue(ex.getMessage().contains("synthetic/13.jpg"), ex.getMessage());
                assertTrue(ex.getCause() instanceof IllegalStateException, String.valueOf(ex.getCause()));
                assertThrows(DataLoadingException.class, e::hasNext);
            }
        }
        // An Error in a worker too.
        Dataset err = new Synthetic(8, Set.of()).withPipeline(Pipeline.of(3, Normalize.NONE, (img, rng) -> {
            throw new AssertionError("worker error");
        }));
        try (Loader loader = new Loader(err, config(4, 2))) {
            DataLoadingException ex = assertThrows(DataLoadingException.class, () -> run(loader, 0));
            assertTrue(ex.getCause() instanceof AssertionError);
        }
    }

    @Test
    void samplesOfDifferentSizesAreReported() {
        Dataset ds = new Synthetic(10, Set.of()).withPipeline(Pipeline.of(3, Normalize.NONE));
        try (Loader loader = new Loader(ds, config(4, 2).withShuffle(false))) {
            DataLoadingException ex = assertThrows(DataLoadingException.class, () -> run(loader, 0));
            assertTrue(ex.getMessage().contains("synthetic/1.jpg is 3x21x25 but earlier samples are 3x20x24"),
                    ex.getMessage());
        }
    }

    @Test
    void prefetchIsBounded() throws InterruptedException {
        Synthetic src = new Synthetic(200, Set.of());
        try (Loader loader = new Loader(src.withPipeline(AUGMENT), config(4, 2).withPrefetchBatches(2))) {
            Loader.Epoch e = loader.epoch(0);
            e.next();
            Thread.sleep(300);
            // 4 taken + at most 2 batches (8 samples) in flight.
            assertTrue(src.reads.get() <= 12, "read " + src.reads.get() + " samples ahead");
            assertTrue(src.reads.get() >= 4);
        }
    }

    @Test
    void startingAnEpochClosesThePreviousOneAndCloseStopsTheThreads() throws Exception {
        Dataset ds = new Synthetic(64, Set.of()).withPipeline(AUGMENT);
        Loader loader = new Loader(ds, config(4, 3));
        Loader.Epoch e0 = loader.epoch(0);
        e0.next();
        Loader.Epoch e1 = loader.epoch(1);
        assertThrows(DataLoadingException.class, e0::hasNext);
        assertEquals(16, run(loader, 1).size());
        assertFalse(loaderThreads().isEmpty());
        loader.close();
        loader.close();
        assertEquals(List.of(), loaderThreads());
        assertThrows(IllegalStateException.class, () -> loader.epoch(2));
        assertEquals(1, e1.number());

        // Closing from another thread while the consumer waits on a slow sample: the consumer gets an exception.
        CountDownLatch started = new CountDownLatch(1);
        Dataset slow = new Synthetic(8, Set.of()).withPipeline(Pipeline.of(3, Normalize.NONE, (img, rng) -> {
            started.countDown();
            try {
                Thread.sleep(2000);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            return CenterCrop.of(8).apply(img, rng);
        }));
        Loader slowLoader = new Loader(slow, config(4, 1));
        Loader.Epoch e = slowLoader.epoch(0);
        AtomicReference<Throwable> seen = new AtomicReference<>();
        Thread consumer = new Thread(() -> {
            try {
                e.next();
            } catch (Throwable t) {
                seen.set(t);
            }
        });
        consumer.start();
        assertTrue(started.await(10, TimeUnit.SECONDS));
        slowLoader.close();
        consumer.join(10_000);
        assertFalse(consumer.isAlive());
        assertTrue(seen.get() instanceof DataLoadingException, String.valueOf(seen.get()));
    }

    @Test
    void configValidation() {
        assertThrows(IllegalArgumentException.class, () -> LoaderConfig.of(0));
        assertThrows(IllegalArgumentException.class, () -> LoaderConfig.of(4).withWorkers(-1));
        assertThrows(IllegalArgumentException.class, () -> LoaderConfig.of(4).withPrefetchBatches(0));
        assertThrows(IllegalArgumentException.class, () -> LoaderConfig.of(4).withLogEverySeconds(-1));
        LoaderConfig c = LoaderConfig.of(4).withSeed(3).withStrict(true);
        assertEquals(3, c.seed());
        assertTrue(c.strict());
        assertThrows(IllegalArgumentException.class, () -> new Loader(new Synthetic(0, Set.of())
                .withPipeline(AUGMENT), LoaderConfig.of(1)));
    }
}
