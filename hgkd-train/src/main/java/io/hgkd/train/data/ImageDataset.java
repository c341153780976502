package io.hgkd.train.data;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * An {@link ImageSource} whose images go through a {@link Pipeline}.
 *
 * @param source   the images
 * @param pipeline the transforms and normalisation
 */
public record ImageDataset(ImageSource source, Pipeline pipeline) implements Dataset {

    /** Checks for nulls. */
    public ImageDataset {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(pipeline, "pipeline");
    }

    @Override
    public int size() {
        return source.size();
    }

    @Override
    public Sample get(int index, RandomGenerator rng) throws IOException {
        ByteImage image = source.read(index, pipeline.channels());
        return pipeline.apply(image, source.label(index), rng);
    }

    @Override
    public String describe(int index) {
        return source.describe(index);
    }

    @Override
    public int numClasses() {
        return source.numClasses();
    }

    @Override
    public List<String> skippedPaths() {
        return source.skippedPaths();
    }
}
