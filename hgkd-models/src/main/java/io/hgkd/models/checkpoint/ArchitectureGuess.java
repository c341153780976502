package io.hgkd.models.checkpoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Names the architecture a state dict matches, from its key names and shapes alone: a timm ViT, an MAE pretraining
 * checkpoint (ViT plus decoder), a timm/torchvision ResNet, a SparK pretraining checkpoint, or unknown.
 *
 * <p>What the weights cannot tell is stated as an assumption: ViT heads are taken as {@code D/64} (head dim 64, as in
 * every timm ViT up to ViT-L) except {@code D = 1280}, taken as 16 heads of 80 (ViT-H/14); a ResNet's stem stride and
 * max pool are not in the weights, only the stem kernel.
 *
 * @param architecture   what the tensors match
 * @param wrapperPrefix  the prefix the model's keys sit under ({@code "model."}, {@code "module."}, or {@code ""})
 * @param otherEntries   top-level prefixes outside the model with their tensor counts (e.g. {@code optimizer -> 960}),
 *                       when the model was found under a wrapper that only part of the keys have
 * @param tensorCount    the number of tensors in the input
 * @param totalElements  the number of elements over all tensors
 * @param parameterCount the model's elements without BN running statistics and SparK's deprecated buffers (the
 *                       count {@code sum(p.numel() for p in model.parameters())} gives)
 * @param dtypes         tensor counts per dtype, sorted by name
 */
public record ArchitectureGuess(Architecture architecture, String wrapperPrefix, Map<String, Integer> otherEntries,
                                int tensorCount, long totalElements, long parameterCount,
                                Map<String, Integer> dtypes) {
    /** Copies the maps. */
    public ArchitectureGuess {
        otherEntries = Collections.unmodifiableMap(new LinkedHashMap<>(otherEntries));
        dtypes = Collections.unmodifiableMap(new TreeMap<>(dtypes));
    }

    /** What a state dict was recognised as. */
    public sealed interface Architecture permits Vit, Mae, ResNet, SparK, Unknown {
        /** A short name: the timm name when known ({@code vit_base_patch16_224}, {@code resnet50}), else a kind. */
        String name();

        /** One line: the name and every property read from the weights. */
        String describe();
    }

    /**
     * A timm-named Vision Transformer encoder.
     *
     * @param timmName     e.g. {@code vit_base_patch16_224}, or {@code ""} when no timm variant matches
     * @param embedDim     D, from {@code patch_embed.proj.weight} [D, C, P, P]
     * @param depth        the number of {@code blocks.{i}}
     * @param numHeads     assumed (not in the weights): D/64, or 16 for D = 1280; 0 when D is not a multiple of 64
     * @param patchSize    P
     * @param inChans      C
     * @param gridSize     G when {@code pos_embed} holds a square G x G grid (plus prefix tokens), else 0
     * @param imgSize      G * P, or 0 when the grid is not square or there is no {@code pos_embed}
     * @param prefixTokens 1 with a {@code cls_token}, else 0
     * @param mlpHidden    the MLP width ({@code blocks.0.mlp.fc1.weight} rows)
     * @param numClasses   {@code head.weight} rows, 0 without a head (MAE pretraining, timm {@code .mae})
     * @param fcNorm       whether {@code fc_norm.*} exists (MAE fine-tuned with global pooling)
     * @param notes        inconsistencies found (missing blocks, ...)
     */
    public record Vit(String timmName, int embedDim, int depth, int numHeads, int patchSize, int inChans,
                      int gridSize, int imgSize, int prefixTokens, int mlpHidden, int numClasses, boolean fcNorm,
                      List<String> notes) implements Architecture {
        /** Copies the notes. */
        public Vit {
            notes = List.copyOf(notes);
        }

        @Override
        public String name() {
            return timmName.isEmpty() ? "vit" : timmName;
        }

        @Override
        public String describe() {
            StringBuilder sb = new StringBuilder(timmName.isEmpty() ? "ViT (no timm variant matches)" : timmName);
            sb.append(": ViT, embed dim ").append(embedDim).append(", depth ").append(depth).append(", ");
            if (numHeads == 0) {
                sb.append("heads unknown (embed dim not a multiple of 64)");
            } else {
                sb.append(numHeads).append(" heads (assumed: head dim ").append(embedDim / numHeads).append(')');
            }
            sb.append(", patch ").append(patchSize);
            if (imgSize > 0) {
                sb.append(", ").append(imgSize).append('x').append(imgSize).append(" input (").append(gridSize)
                        .append('x').append(gridSize).append(" grid").append(prefixTokens > 0 ? " + cls token)" : ")");
            } else {
                sb.append(", input size unknown (pos_embed is not a square grid)");
            }
            sb.append(", ").append(inChans).append(" input channels, MLP ").append(mlpHidden);
            sb.append(numClasses > 0 ? ", head " + numClasses + " classes" : ", no classifier head");
            if (fcNorm) {
                sb.append(", fc_norm (global pool)");
            }
            notes.forEach(n -> sb.append("; ").append(n));
            return sb.toString();
        }
    }

    /**
     * An MAE pretraining checkpoint: a ViT encoder plus MAE's decoder ({@code decoder_*}, {@code mask_token}).
     *
     * @param encoder      the encoder
     * @param decoderDim   {@code decoder_embed.weight} rows (512 in MAE)
     * @param decoderDepth the number of {@code decoder_blocks.{i}} (8 in MAE)
     * @param predictsPerPatch {@code decoder_pred.weight} rows: P * P * C
     */
    public record Mae(Vit encoder, int decoderDim, int decoderDepth, int predictsPerPatch) implements Architecture {
        @Override
        public String name() {
            return "mae_" + encoder.name();
        }

        @Override
        public String describe() {
            return "MAE pretraining checkpoint with decoder: decoder " + decoderDim + "-d, "
                    + plural(decoderDepth, "block")
                    + ", predicting " + predictsPerPatch + " values per patch; encoder "
                    + encoder.describe() + " (LoadPlan.vitEncoder() drops decoder_* and mask_token)";
        }
    }

    /**
     * A timm/torchvision ResNet (the names SparK's timm-style checkpoints and hgkd's student exports use).
     *
     * @param name          {@code resnet18/34/50/101/152/200}, {@code wide_resnet50_2}, {@code resnext50_32x4d}, or
     *                      {@code ""} when the layer counts match no standard depth
     * @param bottleneck    Bottleneck blocks ({@code layer1.0.conv3} exists), else BasicBlock
     * @param layers        blocks per stage
     * @param stemKernel    {@code conv1} kernel: 7 (ImageNet stem) or 3 (small-image stem)
     * @param stemWidth     {@code conv1} output channels
     * @param inChans       {@code conv1} input channels
     * @param groups        3x3 conv groups in the blocks (1 except ResNeXt)
     * @param baseWidth     timm's base_width: 64 for ResNets, 128 for wide ResNets, per-group width for ResNeXt
     * @param stageChannels output channels of each stage
     * @param numClasses    {@code fc.weight} rows, 0 without a classifier
     */
    public record ResNet(String name, boolean bottleneck, List<Integer> layers, int stemKernel, int stemWidth,
                         int inChans, int groups, int baseWidth, List<Integer> stageChannels, int numClasses)
            implements Architecture {
        /** Copies the lists. */
        public ResNet {
            layers = List.copyOf(layers);
            stageChannels = List.copyOf(stageChannels);
        }

        @Override
        public String name() {
            return name.isEmpty() ? "resnet" : name;
        }

        @Override
        public String describe() {
            return (name.isEmpty() ? "ResNet (no standard depth matches)" : name) + ": ResNet, "
                    + (bottleneck ? "Bottleneck" : "BasicBlock") + " blocks, layers " + layers + ", "
                    + stemKernel + "x" + stemKernel + " stem"
                    + (stemKernel == 7 ? " (ImageNet stem)" : stemKernel == 3 ? " (small-image stem)" : "")
                    + " with " + stemWidth + " channels, " + inChans + " input channels"
                    + (groups > 1 ? ", " + groups + " groups of width " + baseWidth : ", base width " + baseWidth)
                    + ", stage channels " + stageChannels
                    + (numClasses > 0 ? ", fc " + numClasses + " classes" : ", no classifier (fc absent)");
        }
    }

    /**
     * A SparK pretraining checkpoint ({@code <model>_withdecoder_1kpretrained_spark_style.pth}): sparse encoder,
     * densify layers and LightDecoder.
     *
     * @param encoder       what {@code sparse_encoder.sp_cnn.*} matches (a ResNet, or unknown for e.g. ConvNeXt)
     * @param decoderWidth  the LightDecoder width ({@code dense_decoder.dec.0.up_sample.weight} [w, w, 4, 4])
     * @param decoderBlocks the number of UNet blocks
     * @param densifyScales the number of densify projections (encoder scales fed to the decoder)
     */
    public record SparK(Architecture encoder, int decoderWidth, int decoderBlocks, int densifyScales)
            implements Architecture {
        @Override
        public String name() {
            return "spark_" + encoder.name();
        }

        @Override
        public String describe() {
            return "SparK pretraining checkpoint: LightDecoder width " + decoderWidth + " with "
                    + plural(decoderBlocks, "UNet block") + ", " + plural(densifyScales, "densify scale")
                    + "; encoder under 'sparse_encoder.sp_cnn.': "
                    + encoder.describe() + " (LoadPlan.sparkEncoder() selects it)";
        }
    }

    /**
     * Nothing recognised.
     *
     * @param topLevel the first dotted component of the keys with their counts
     */
    public record Unknown(Map<String, Integer> topLevel) implements Architecture {
        /** Copies the map. */
        public Unknown {
            topLevel = Collections.unmodifiableMap(new LinkedHashMap<>(topLevel));
        }

        @Override
        public String name() {
            return "unknown";
        }

        @Override
        public String describe() {
            return "unknown architecture; top-level prefixes: " + StateDicts.describeCounts(topLevel, 12);
        }
    }

    /** Size names by (embed dim, depth), for timm names. */
    private static final Map<String, String> VIT_SIZES = Map.of(
            "192/12", "tiny", "384/12", "small", "768/12", "base", "1024/24", "large", "1280/32", "huge");

    /** The {@code vit_<size>_patch<P>_<img>} variants timm registers (MAE's are base/large 16_224 and huge 14_224). */
    private static final Set<String> VIT_VARIANTS = Set.of(
            "vit_tiny_patch16_224", "vit_tiny_patch16_384",
            "vit_small_patch16_224", "vit_small_patch16_384", "vit_small_patch32_224", "vit_small_patch32_384",
            "vit_small_patch8_224",
            "vit_base_patch16_224", "vit_base_patch16_384", "vit_base_patch32_224", "vit_base_patch32_384",
            "vit_base_patch8_224",
            "vit_large_patch16_224", "vit_large_patch16_384", "vit_large_patch32_224", "vit_large_patch32_384",
            "vit_huge_patch14_224");

    /** ResNet depth by block type and layer counts. */
    private static final Map<String, Integer> RESNET_DEPTHS = Map.of(
            "basic[2, 2, 2, 2]", 18, "basic[3, 4, 6, 3]", 34,
            "bottleneck[3, 4, 6, 3]", 50, "bottleneck[3, 4, 23, 3]", 101, "bottleneck[3, 8, 36, 3]", 152,
            "bottleneck[3, 24, 36, 3]", 200);

    private static final Set<String> BUFFER_SUFFIXES = Set.of("running_mean", "running_var", "num_batches_tracked");
    private static final Set<String> SPARK_BUFFERS = Set.of("imn_m", "imn_s", "norm_black");
    private static final Pattern BLOCK = Pattern.compile("^blocks\\.(\\d{1,9})\\.");
    private static final Pattern DECODER_BLOCK = Pattern.compile("^decoder_blocks\\.(\\d{1,9})\\.");

    /** Guesses from tensors (their shapes and ND4J types). */
    public static ArchitectureGuess ofTensors(Map<String, INDArray> state) {
        return of(StateDicts.specs(state));
    }

    /** Guesses from tensor specs, e.g. a safetensors header ({@link Checkpoints#inspect}). */
    public static ArchitectureGuess of(Map<String, TensorSpec> specs) {
        Map<String, Integer> dtypes = new TreeMap<>();
        long total = 0;
        for (TensorSpec s : specs.values()) {
            dtypes.merge(s.dtype(), 1, Integer::sum);
            total += s.numElements();
        }
        String wrapper = StateDicts.wrapperPrefix(specs.keySet());
        Map<String, TensorSpec> model = StateDicts.select(specs, wrapper);
        Architecture arch = identify(model);
        Map<String, Integer> others = Map.of();
        if (arch instanceof Unknown) {
            // A wrapper that holds only part of the keys: SparK's {'module': ..., 'optimizer': ...} converted whole.
            for (String w : StateDicts.WRAPPER_PREFIXES) {
                if (model.keySet().stream().noneMatch(k -> k.startsWith(w))) {
                    continue;
                }
                Map<String, TensorSpec> sub = StateDicts.select(model, w);
                String inner = StateDicts.wrapperPrefix(sub.keySet());
                sub = StateDicts.select(sub, inner);
                Architecture a = identify(sub);
                if (!(a instanceof Unknown)) {
                    arch = a;
                    others = StateDicts.topLevelPrefixes(
                            model.keySet().stream().filter(k -> !k.startsWith(w)).toList());
                    wrapper = wrapper + w + inner;
                    model = sub;
                    break;
                }
            }
        }
        long params = 0;
        for (Map.Entry<String, TensorSpec> e : model.entrySet()) {
            if (!isBuffer(e.getKey())) {
                params += e.getValue().numElements();
            }
        }
        return new ArchitectureGuess(arch, wrapper, others, specs.size(), total, params, dtypes);
    }

    /** One line: the architecture, the parameter count, the wrapper and anything else in the file. */
    public String summary() {
        StringBuilder sb = new StringBuilder(architecture.describe());
        sb.append("; ").append(humanCount(parameterCount)).append(" parameters");
        if (!wrapperPrefix.isEmpty()) {
            sb.append("; keys wrapped in '").append(wrapperPrefix).append('\'');
        }
        if (!otherEntries.isEmpty()) {
            sb.append("; other entries: ").append(String.join(", ", otherEntries.entrySet().stream()
                    .map(e -> e.getKey() + " (" + e.getValue() + " tensors)").toList()));
        }
        return sb.toString();
    }

    /** {@code 85798656 -> "85.8M"}, {@code 11689512 -> "11.7M"}, {@code 1234 -> "1.2K"}, {@code 12 -> "12"}. */
    public static String humanCount(long n) {
        if (n < 1000) {
            return Long.toString(n);
        }
        String[] units = {"K", "M", "B", "T"};
        double v = n;
        int u = -1;
        while (v >= 999.95 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f%s", v, units[u]);
    }

    private static String plural(int n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }

    /** BN running statistics and SparK's deprecated buffers: state, but not parameters. */
    static boolean isBuffer(String key) {
        int dot = key.lastIndexOf('.');
        return BUFFER_SUFFIXES.contains(key.substring(dot + 1)) || SPARK_BUFFERS.contains(key);
    }

    private static Architecture identify(Map<String, TensorSpec> m) {
        if (hasPrefix(m, "sparse_encoder.sp_cnn.") && hasPrefix(m, "dense_decoder.")) {
            return spark(m);
        }
        TensorSpec patch = m.get("patch_embed.proj.weight");
        if (patch != null && patch.rank() == 4) {
            Vit vit = vit(m, patch);
            if (hasPrefix(m, "decoder_blocks.") || m.containsKey("decoder_embed.weight")) {
                return mae(m, vit);
            }
            return vit;
        }
        TensorSpec conv1 = m.get("conv1.weight");
        if (conv1 != null && conv1.rank() == 4 && m.containsKey("layer1.0.conv1.weight")) {
            return resnet(m, conv1);
        }
        return new Unknown(StateDicts.topLevelPrefixes(m.keySet()));
    }

    private static Vit vit(Map<String, TensorSpec> m, TensorSpec patch) {
        int dim = (int) patch.dim(0);
        int chans = (int) patch.dim(1);
        int p = (int) patch.dim(2);
        List<String> notes = new ArrayList<>();
        if (patch.dim(3) != p) {
            notes.add("non-square patch " + p + "x" + patch.dim(3));
        }
        TreeSet<Integer> blocks = indices(m, BLOCK);
        int depth = blocks.size();
        if (depth > 0 && blocks.last() != depth - 1) {
            notes.add("block indices are not 0.." + (depth - 1) + " but " + blocks);
        }
        int heads = dim == 1280 ? 16 : dim % 64 == 0 ? dim / 64 : 0;
        int prefix = m.containsKey("cls_token") ? 1 : 0;
        int grid = 0;
        TensorSpec pos = m.get("pos_embed");
        if (pos != null && pos.rank() == 3) {
            long tokens = pos.dim(1) - prefix;
            long g = Math.round(Math.sqrt(Math.max(tokens, 0)));
            if (tokens > 0 && g * g == tokens) {
                grid = (int) g;
            }
            if (pos.dim(2) != dim) {
                notes.add("pos_embed width " + pos.dim(2) + " differs from embed dim " + dim);
            }
        } else {
            notes.add("no pos_embed");
        }
        int img = grid * p;
        TensorSpec fc1 = m.get("blocks.0.mlp.fc1.weight");
        int mlp = fc1 == null ? 0 : (int) fc1.dim(0);
        TensorSpec head = m.get("head.weight");
        int classes = head == null || head.rank() != 2 ? 0 : (int) head.dim(0);
        boolean fcNorm = m.containsKey("fc_norm.weight");
        String size = VIT_SIZES.get(dim + "/" + depth);
        String name = "";
        if (size != null && img > 0 && mlp == 4 * dim && prefix == 1 && notes.isEmpty()) {
            String candidate = "vit_" + size + "_patch" + p + "_" + img;
            name = VIT_VARIANTS.contains(candidate) ? candidate : "";
        }
        return new Vit(name, dim, depth, heads, p, chans, grid, img, prefix, mlp, classes, fcNorm, notes);
    }

    private static Mae mae(Map<String, TensorSpec> m, Vit encoder) {
        TensorSpec embed = m.get("decoder_embed.weight");
        TensorSpec pred = m.get("decoder_pred.weight");
        return new Mae(encoder, embed == null ? 0 : (int) embed.dim(0), indices(m, DECODER_BLOCK).size(),
                pred == null ? 0 : (int) pred.dim(0));
    }

    private static ResNet resnet(Map<String, TensorSpec> m, TensorSpec conv1) {
        boolean bottleneck = m.containsKey("layer1.0.conv3.weight");
        List<Integer> layers = new ArrayList<>();
        List<Integer> channels = new ArrayList<>();
        for (int s = 1; s <= 4; s++) {
            Set<Integer> blocks = indices(m, Pattern.compile("^layer" + s + "\\.(\\d{1,9})\\."));
            if (blocks.isEmpty()) {
                break;
            }
            layers.add(blocks.size());
            TensorSpec out = m.get("layer" + s + ".0." + (bottleneck ? "conv3" : "conv2") + ".weight");
            channels.add(out == null ? 0 : (int) out.dim(0));
        }
        TensorSpec conv2 = m.get("layer1.0.conv2.weight");
        int groups = 1;
        int baseWidth = 64;
        if (conv2 != null && conv2.rank() == 4 && conv2.dim(1) > 0) {
            groups = (int) (conv2.dim(0) / conv2.dim(1));
            // timm: width = planes * base_width / 64 * groups with planes = 64 in layer1.
            baseWidth = groups > 1 ? (int) conv2.dim(1) : (int) conv2.dim(0);
        }
        TensorSpec fc = m.get("fc.weight");
        int classes = fc == null || fc.rank() != 2 ? 0 : (int) fc.dim(0);
        Integer depth = RESNET_DEPTHS.get((bottleneck ? "bottleneck" : "basic") + layers);
        String name = "";
        if (depth != null) {
            if (groups == 1 && baseWidth == 64) {
                name = "resnet" + depth;
            } else if (bottleneck && groups == 1 && baseWidth == 128 && (depth == 50 || depth == 101)) {
                name = "wide_resnet" + depth + "_2";
            } else if (bottleneck && groups > 1) {
                name = "resnext" + depth + "_" + groups + "x" + baseWidth + "d";
            }
        }
        return new ResNet(name, bottleneck, layers, (int) conv1.dim(2), (int) conv1.dim(0), (int) conv1.dim(1),
                groups, baseWidth, channels, classes);
    }

    private static SparK spark(Map<String, TensorSpec> m) {
        Architecture encoder = identify(StateDicts.select(m, "sparse_encoder.sp_cnn."));
        TensorSpec up = m.get("dense_decoder.dec.0.up_sample.weight");
        int blocks = indices(m, Pattern.compile("^dense_decoder\\.dec\\.(\\d{1,9})\\.")).size();
        int scales = Math.max(indices(m, Pattern.compile("^densify_projs\\.(\\d{1,9})\\.")).size(),
                indices(m, Pattern.compile("^mask_tokens\\.(\\d{1,9})$")).size());
        return new SparK(encoder, up == null ? 0 : (int) up.dim(0), blocks, scales);
    }

    private static boolean hasPrefix(Map<String, ?> m, String prefix) {
        return m.keySet().stream().anyMatch(k -> k.startsWith(prefix));
    }

    /** The distinct integers captured by group 1 of {@code p} over the keys, sorted. */
    private static TreeSet<Integer> indices(Map<String, ?> m, Pattern p) {
        TreeSet<Integer> out = new TreeSet<>();
        for (String k : m.keySet()) {
            Matcher x = p.matcher(k);
            if (x.find()) {
                out.add(Integer.parseInt(x.group(1)));
            }
        }
        return out;
    }
}
