package io.hgkd.train.preview;

import io.hgkd.train.loop.EpochEvent;
import io.hgkd.train.loop.RunInfo;
import io.hgkd.train.loop.TrainingListener;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes {@code <outputDir>/previews/epoch-NNNN.png} (1-based epoch) at every epoch end: a {@link PreviewGrid} of the
 * job's {@link Previewable#preview} for the same fixed images every epoch (chosen once at run start, also on resume).
 * Each file is written to a temporary name and renamed, so a viewer never sees half a PNG.
 */
public final class PreviewListener implements TrainingListener {
    /** Sub-directory of the output directory holding the pictures. */
    public static final String DIR = "previews";
    /** Images per picture unless told otherwise. */
    public static final int DEFAULT_IMAGES = 8;

    private final Previewable job;
    private final int count;
    private Path dir;
    private INDArray images;

    /**
     * @param job    the job to ask for previews
     * @param images how many fixed images (rows) per picture, &gt;= 1
     */
    public PreviewListener(Previewable job, int images) {
        this.job = Objects.requireNonNull(job, "job");
        if (images < 1) {
            throw new IllegalArgumentException("PreviewListener needs at least 1 image, got " + images);
        }
        this.count = images;
    }

    /** The picture of epoch {@code epoch} (0-based) in a run directory. */
    public static Path file(Path outputDir, int epoch) {
        return outputDir.resolve(DIR).resolve(String.format(Locale.ROOT, "epoch-%04d.png", epoch + 1));
    }

    @Override
    public void onRunStart(RunInfo run) {
        dir = run.outputDir().resolve(DIR);
        images = job.previewImages(count);
    }

    @Override
    public void onEpochEnd(EpochEvent e) {
        if (dir == null) {
            throw new IllegalStateException("onRunStart was not called");
        }
        if (images == null || images.size(0) == 0) {
            return; // no readable image in the data
        }
        BufferedImage picture = PreviewGrid.render(job.preview(images));
        Path target = file(dir.getParent(), e.epoch());
        Path tmp = dir.resolve(target.getFileName() + ".tmp");
        try {
            Files.createDirectories(dir);
            if (!ImageIO.write(picture, "png", tmp.toFile())) {
                throw new IOException("no PNG writer in ImageIO");
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write the preview " + target, ex);
        }
    }
}
