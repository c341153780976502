package io.hgkd.train.data;

import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * What happens to a decoded image: conversion to {@code channels} channels, the transforms in order (each drawing
 * from the same per-sample generator), then {@link Normalize} to a float {@code CHW} tensor. The transforms must
 * end at one fixed size for the images to batch.
 *
 * @param channels   1 or 3; images are decoded (and, after the transforms, converted) to this many channels
 * @param transforms applied in order
 * @param normalize  the final scaling
 */
public record Pipeline(int channels, List<ImageTransform> transforms, Normalize normalize) {

    /** Validates and copies. */
    public Pipeline {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        transforms = List.copyOf(transforms);
        Objects.requireNonNull(normalize, "normalize");
    }

    /** A pipeline from its parts. */
    public static Pipeline of(int channels, Normalize normalize, ImageTransform... transforms) {
        return new Pipeline(channels, List.of(transforms), normalize);
    }

    /**
     * SparK's pretraining augmentation (method.md §3.7): {@code RandomResizedCrop(size, scale (0.67, 1), bicubic)},
     * horizontal flip with p = 0.5, ImageNet normalisation.
     */
    public static Pipeline sparkPretrain(int size) {
        return of(3, Normalize.IMAGENET, RandomResizedCrop.spark(size), RandomHorizontalFlip.half());
    }

    /**
     * The evaluation transform of SparK's fine-tuning (method.md §3.9): shorter side to {@code floor(size / 0.95)}
     * (235 for 224) with bicubic, centre crop {@code size}, ImageNet normalisation.
     */
    public static Pipeline imagenetEval(int size) {
        return of(3, Normalize.IMAGENET, new ResizeShorter((int) Math.floor(size / 0.95), Interpolation.BICUBIC),
                CenterCrop.of(size));
    }

    /** The transformed, normalised sample for a decoded image. */
    public Sample apply(ByteImage image, int label, RandomGenerator rng) {
        ByteImage x = image.toChannels(channels);
        for (ImageTransform t : transforms) {
            x = t.apply(x, rng);
        }
        x = x.toChannels(channels);
        return new Sample(normalize.apply(x), channels, x.height(), x.width(), label);
    }
}
