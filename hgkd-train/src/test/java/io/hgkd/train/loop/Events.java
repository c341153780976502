package io.hgkd.train.loop;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Test events. */
final class Events {

    private Events() {
    }

    static RunInfo run(Path dir, int epochs, int iters) {
        return RunInfo.fresh("distill", epochs, iters, 32, 64, 1.5e-4, 3.75e-5, dir);
    }

    static RunInfo resumed(Path dir, int epochs, int iters, int startEpoch, long startStep) {
        return new RunInfo("distill", epochs, iters, 32, 64, 1.5e-4, 3.75e-5, dir, startEpoch, startStep);
    }

    static Map<String, Double> losses(double total, double feat, double sim) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("loss", total);
        m.put("feat", feat);
        m.put("sim", sim);
        return m;
    }

    /** Step {@code global} of a run with {@code iters} steps per epoch; loss falls with the step. */
    static StepEvent step(long global, int iters, double seconds) {
        double l = 1.0 / (1 + global);
        return new StepEvent((int) (global / iters), (int) (global % iters), global, losses(l, 0.7 * l, 0.3 * l),
                1e-4 * (1 + global), 0.05, 1.25, 64, seconds);
    }

    static EpochEvent epoch(int epoch, int iters, Map<String, Double> metrics) {
        return new EpochEvent(epoch, (long) (epoch + 1) * iters, losses(0.5, 0.35, 0.15), metrics, 64L * iters,
                10.0);
    }

    static RunSummary completed(int epochs, long steps) {
        return new RunSummary(RunSummary.Status.COMPLETED, epochs, steps, 100, Map.of(), null);
    }
}
