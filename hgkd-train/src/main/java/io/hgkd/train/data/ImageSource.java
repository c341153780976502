package io.hgkd.train.data;

import java.io.IOException;
import java.util.List;

/**
 * Indexed raw images with optional labels: {@link ImageFolder} and {@link IdxDataset}. A {@link Pipeline} turns a
 * source into a {@link Dataset} ({@link #withPipeline}).
 */
public interface ImageSource {

    /** Number of images. */
    int size();

    /** Class of image {@code index}, or -1 if the source is unlabeled. */
    int label(int index);

    /** Number of classes, 0 if unlabeled. */
    int numClasses();

    /** Where image {@code index} comes from, for log lines and errors. */
    String describe(int index);

    /**
     * Image {@code index} with {@code channels} (1 or 3) channels.
     *
     * @throws BadImageException if it cannot be read or decoded
     */
    ByteImage read(int index, int channels) throws IOException;

    /** Directories or files that could not be read while indexing, with the reason. */
    default List<String> skippedPaths() {
        return List.of();
    }

    /** This source, decoded and transformed by {@code pipeline}, as a dataset. */
    default Dataset withPipeline(Pipeline pipeline) {
        return new ImageDataset(this, pipeline);
    }
}
