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
 * Prints the process's memory every {@code everySteps} optimizer steps and at each epoch end, to find native leaks:
 * the resident set ({@code VmRSS} of {@code /proc/self/status}), JavaCPP's {@code Pointer.physicalBytes()} (its own
 * RSS reading) and {@code Pointer.totalBytes()} (native bytes of live, not yet deallocated JavaCPP pointers, which
 * holds every ND4J buffer owned by Java) and the used Java heap, plus the mean step time since the last line.
 *
 * <p>How to read it: {@code totalBytes} growing means ND4J arrays are kept alive or not yet collected; RSS growing
 * while {@code totalBytes} stays flat means memory outside JavaCPP's accounting (libnd4j's or oneDNN's caches,
 * allocator fragmentation).
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
                        + "  nd4j buffers %7d  constant cache %5d MB  %7.1f ms/step%n", when, rssBytes() >> 20,
                Pointer.physicalBytes() >> 20, Pointer.totalBytes() >> 20, (rt.totalMemory() - rt.freeMemory()) >> 20,
                unreleasedNd4jObjects(), Nd4j.getNativeOps().getCachedMemory(0) >> 20, ms);
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
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
