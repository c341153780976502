package io.hgkd.train.loop;

import java.io.IOException;
import java.lang.reflect.Field;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.deallocation.DeallocatorService;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Prints the process's memory every {@code everySteps} optimizer steps and at each epoch end, to check that native
 * memory stays flat: the resident set ({@code VmRSS} of {@code /proc/self/status}), JavaCPP's
 * {@code Pointer.physicalBytes()} (its own RSS reading, what its {@code maxPhysicalBytes} limit compares with) and
 * {@code Pointer.totalBytes()}, the used and committed Java heap, the native ND4J objects not yet released
 * ({@link #unreleasedNd4jObjects()}) and the mean step time since the last line.
 *
 * <p>How to read it: ND4J 1.0.0-M2.1 allocates its buffers outside JavaCPP's byte count, so {@code totalBytes} stays
 * near 0 whatever ND4J does. Unreleased objects growing from line to line means arrays are kept alive (or made faster
 * than the collector frees them); RSS growing while they stay flat means memory outside ND4J's buffers (libnd4j or
 * oneDNN caches, allocator fragmentation). Run with jemalloc's {@code stats_interval} in {@code MALLOC_CONF} to see
 * its live ({@code Allocated}) against its resident bytes.
 */
public final class MemoryListener implements TrainingListener {
    private final int everySteps;
    private final PrintStream out;
    private long last = System.nanoTime();
    private long stepsSinceLast;

    /**
     * @param everySteps steps between lines, &gt;= 1
     * @param out        where the lines go
     */
    public MemoryListener(int everySteps, PrintStream out) {
        if (everySteps < 1) {
            throw new IllegalArgumentException("everySteps must be >= 1, got " + everySteps);
        }
        this.everySteps = everySteps;
        this.out = out;
    }

    @Override
    public void onStepEnd(StepEvent step) {
        stepsSinceLast++;
        if ((step.globalStep() + 1) % everySteps == 0) {
            print("step " + (step.globalStep() + 1));
        }
    }

    @Override
    public void onEpochEnd(EpochEvent epoch) {
        print("epoch " + epoch.epoch() + " end (step " + epoch.globalStep() + ")");
    }

    private void print(String when) {
        Runtime rt = Runtime.getRuntime();
        long now = System.nanoTime();
        double ms = stepsSinceLast == 0 ? Double.NaN : (now - last) / 1e6 / stepsSinceLast;
        out.printf(Locale.ROOT, "memory %-28s rss %6d MB  javacpp physical %6d MB  total %6d MB  heap %5d MB"
                        + " of %5d MB  nd4j objects %7d  %7.1f ms/step%n", when, rssBytes() >> 20,
                Pointer.physicalBytes() >> 20, Pointer.totalBytes() >> 20, (rt.totalMemory() - rt.freeMemory()) >> 20,
                rt.totalMemory() >> 20, unreleasedNd4jObjects(), ms);
        out.flush();
        last = now;
        stepsSinceLast = 0;
    }

    /**
     * Native ND4J objects (data buffers, op contexts) registered with ND4J's deallocator and not yet released: live
     * ones plus those whose Java wrapper awaits collection. -1 if ND4J's internals cannot be read.
     */
    public static long unreleasedNd4jObjects() {
        try {
            DeallocatorService service = Nd4j.getDeallocatorService();
            Field f = DeallocatorService.class.getDeclaredField("referenceMap");
            f.setAccessible(true);
            return ((Map<?, ?>) f.get(service)).size();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    /** The process's resident set size ({@code VmRSS}), or -1 where {@code /proc/self/status} does not exist. */
    public static long rssBytes() {
        return procStatusBytes("VmRSS");
    }

    /**
     * A kB field of {@code /proc/self/status} in bytes (e.g. {@code VmRSS}, or {@code VmHWM} for the peak), or -1 where
     * the file or the field does not exist.
     */
    public static long procStatusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
