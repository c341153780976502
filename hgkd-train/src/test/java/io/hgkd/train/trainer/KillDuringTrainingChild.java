package io.hgkd.train.trainer;

import io.hgkd.train.loop.CompositeListener;
import io.hgkd.train.loop.JsonlMetricsListener;
import io.hgkd.train.loop.StepEvent;
import io.hgkd.train.loop.TrainingListener;
import java.nio.file.Path;

/**
 * Child JVM of {@link KillDuringTrainingTest}: trains the tiny distillation run in {@code args[0]}, printing
 * {@code CHECKPOINT <step>} and {@code STEP <global step>} lines; at global step {@code args[1]} it announces
 * {@code HANG} and sleeps, so the parent's SIGKILL lands mid-epoch, after the first checkpoint.
 */
public final class KillDuringTrainingChild {
    private KillDuringTrainingChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long hangAt = Long.parseLong(args[1]);
        TrainingListener report = new TrainingListener() {
            @Override
            public void onStepEnd(StepEvent s) {
                System.out.println("STEP " + s.globalStep());
                if (s.globalStep() == hangAt) {
                    System.out.println("HANG");
                    System.out.flush();
                    try {
                        Thread.sleep(600_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            @Override
            public void onCheckpoint(Path d, long globalStep) {
                System.out.println("CHECKPOINT " + globalStep);
                System.out.flush();
            }
        };
        try (DistillJob job = new DistillJob(TinyRuns.distill(KillDuringTrainingTest.SEED))) {
            new Trainer(job, TinyRuns.trainer(KillDuringTrainingTest.EPOCHS), dir,
                    CompositeListener.of(new JsonlMetricsListener(1), report)).fit();
        }
        System.out.println("DONE");
    }
}
