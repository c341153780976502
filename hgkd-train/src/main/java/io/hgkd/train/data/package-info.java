/**
 * Training data: image folders and IDX files, decoding, augmentation and a multi-threaded batch loader.
 *
 * <ul>
 *   <li><b>Sources</b> ({@link io.hgkd.train.data.ImageSource}): {@link io.hgkd.train.data.ImageFolder} (ImageNet
 *       layout or an unlabeled tree, indexed without decoding) and {@link io.hgkd.train.data.IdxDataset}
 *       (MNIST/Fashion-MNIST; {@link io.hgkd.train.data.FashionMnist} finds the Debian install or falls back to the
 *       embedded subset).</li>
 *   <li><b>Decoding</b>: {@link io.hgkd.train.data.ImageDecoder}, pure Java (ImageIO + TwelveMonkeys JPEG), into
 *       8-bit {@link io.hgkd.train.data.ByteImage}s; a bad file is a {@link io.hgkd.train.data.BadImageException}
 *       naming it.</li>
 *   <li><b>Transforms</b> ({@link io.hgkd.train.data.ImageTransform}): RandomResizedCrop, horizontal flip,
 *       ResizeShorter, CenterCrop, Resize, Pad, channel conversion, with torchvision's geometry and PIL's
 *       resampling (byte-identical on the committed references); {@link io.hgkd.train.data.Pipeline} chains them
 *       and ends with {@link io.hgkd.train.data.Normalize}. {@link io.hgkd.train.data.Pipeline#sparkPretrain} and
 *       {@link io.hgkd.train.data.Pipeline#imagenetEval} are the recipes of method.md §3.7 and §3.9.</li>
 *   <li><b>Loading</b>: {@link io.hgkd.train.data.Loader} turns a {@link io.hgkd.train.data.Dataset} into NCHW
 *       float batches, decoding on worker threads, deterministic for a seed whatever the thread count, skipping
 *       and counting bad files (or failing fast when strict).</li>
 * </ul>
 *
 * <pre>{@code
 * ImageFolder train = ImageFolder.labeled(Path.of("/data/imagenet/train"));
 * try (Loader loader = new Loader(train.withPipeline(Pipeline.sparkPretrain(224)),
 *         LoaderConfig.of(128).withWorkers(8).withSeed(0).withDropLast(true))) {
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         for (Batch batch : loader.epoch(epoch)) {
 *             INDArray images = batch.images();    // [128, 3, 224, 224], ImageNet-normalised
 *         }
 *     }
 * }
 *
 * FashionMnist.Splits fm = FashionMnist.load();   // Debian's full set if installed, else the embedded subset
 * Dataset small = fm.train().withPipeline(Pipeline.of(3, FashionMnist.NORMALIZE, Pad.uniform(2)));  // 3x32x32
 * }</pre>
 */
package io.hgkd.train.data;
