package io.hgkd.train.checkpoint;

import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.AdamW;
import io.hgkd.core.optim.Optimizer;
import io.hgkd.core.optim.ParamGroups;
import java.nio.file.Path;
import java.util.Map;

/**
 * The child JVM of {@link KillMidWriteTest}: writes checkpoint 1 completely, then starts checkpoint 2 and, once its
 * {@code model.safetensors} is on disk, announces the temporary directory on stdout and blocks until it is killed.
 * Blocking in the write hook makes the kill land mid-write deterministically, with no timing guesswork.
 */
public final class KillMidWriteChild {
    private KillMidWriteChild() {
    }

    /** {@code args[0]}: the checkpoint root. */
    public static void main(String[] args) throws Exception {
        CheckpointManager mgr = new CheckpointManager(Path.of(args[0]), 3, null);
        Module model = Fixtures.smallModel();
        model.loadStateDict(Fixtures.deterministicState(model, 100), true);
        Optimizer opt = optimizer(model);
        Path first = mgr.save(Snapshot.of(Fixtures.state(1, null), model, opt)
                .withExtra(Map.of("teacher_queue", Fixtures.values(7, 4, 3))));
        System.out.println("SAVED " + first);

        model.loadStateDict(Fixtures.deterministicState(model, 200), true);
        mgr.afterFileHook(file -> {
            if (file.getFileName().toString().equals("model.safetensors")) {
                System.out.println("PAUSED " + file.getParent());
                System.out.flush();
                while (true) {
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        // Only SIGKILL is supposed to end this process.
                    }
                }
            }
        });
        mgr.save(Snapshot.of(Fixtures.state(2, null), model, opt)
                .withExtra(Map.of("teacher_queue", Fixtures.values(8, 4, 3))));
        System.out.println("NOT PAUSED");
    }

    static Optimizer optimizer(Module model) {
        return new AdamW(ParamGroups.spark(model.namedParameters()), AdamW.Config.torchDefaults());
    }
}
