package io.hgkd.models.registry;

import io.hgkd.models.mae.MaeConfig;
import io.hgkd.models.mae.MaskedAutoencoderViT;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Creates models by timm name plus overrides, as {@code timm.create_model(name, **kwargs)}:
 * <pre>{@code
 *   CreatedModel m = ModelRegistry.create("resnet50", Map.of("num_classes", "10", "stem", "small"));
 *   CreatedModel t = ModelRegistry.create("vit_base_patch16_224", Map.of("num_classes", "0"));
 * }</pre>
 * Overrides use timm's keyword names; each family accepts the keys in {@link #overrideKeys(String)} and rejects the
 * rest with a message listing them.
 */
public final class ModelRegistry {
    /** Model families. */
    public enum Family {
        RESNET, VIT, MAE
    }

    private static final List<String> RESNETS = List.of("resnet18", "resnet34", "resnet50", "resnet101", "resnet152");
    private static final Set<String> RESNET_KEYS = Set.of("num_classes", "in_chans", "stem", "base_width",
            "drop_path_rate", "zero_init_last", "seed", "img_size");
    private static final Set<String> VIT_KEYS = Set.of("num_classes", "in_chans", "img_size", "patch_size", "depth",
            "drop_path_rate", "drop_rate", "global_pool", "pos_embed", "init", "seed");
    private static final Set<String> MAE_KEYS = Set.of("in_chans", "img_size", "patch_size", "depth", "mask_ratio",
            "norm_pix_loss", "decoder_embed_dim", "decoder_depth", "decoder_num_heads", "drop_path_rate", "seed");

    private ModelRegistry() {
    }

    /** Every registered name. */
    public static List<String> names() {
        List<String> out = new ArrayList<>(RESNETS);
        out.addAll(VitConfig.VARIANTS);
        out.addAll(MaeConfig.VARIANTS);
        return out;
    }

    /** The family of a registered name. */
    public static Family family(String name) {
        if (RESNETS.contains(name)) {
            return Family.RESNET;
        }
        if (VitConfig.VARIANTS.contains(name)) {
            return Family.VIT;
        }
        if (MaeConfig.VARIANTS.contains(name)) {
            return Family.MAE;
        }
        throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", names()));
    }

    /** The override keys a name accepts. */
    public static Set<String> overrideKeys(String name) {
        return new TreeSet<>(switch (family(name)) {
            case RESNET -> RESNET_KEYS;
            case VIT -> VIT_KEYS;
            case MAE -> MAE_KEYS;
        });
    }

    /** {@code create(name, Map.of())}. */
    public static CreatedModel create(String name) {
        return create(name, Map.of());
    }

    /**
     * Builds {@code name} with {@code overrides} (timm keyword names, string values).
     *
     * @throws IllegalArgumentException for an unknown name, an unknown or inapplicable key, or a bad value (naming it)
     */
    public static CreatedModel create(String name, Map<String, String> overrides) {
        Family family = family(name);
        Map<String, String> o = new LinkedHashMap<>(overrides);
        Set<String> allowed = overrideKeys(name);
        for (String k : o.keySet()) {
            if (!allowed.contains(k)) {
                throw new IllegalArgumentException("'" + k + "' is not an option of " + name + "; options: " + allowed);
            }
        }
        return switch (family) {
            case RESNET -> resnet(name, o);
            case VIT -> vit(name, o);
            case MAE -> mae(name, o);
        };
    }

    private static CreatedModel resnet(String name, Map<String, String> o) {
        ResNetConfig c = ResNetConfig.byName(name);
        if (o.containsKey("num_classes")) {
            c = c.withNumClasses(integer(o, "num_classes"));
        }
        if (o.containsKey("in_chans")) {
            c = c.withInChans(integer(o, "in_chans"));
        }
        if (o.containsKey("stem")) {
            c = c.withStem(enumValue(ResNetConfig.Stem.class, o, "stem"));
        }
        if (o.containsKey("base_width")) {
            c = c.withBaseWidth(integer(o, "base_width"));
        }
        if (o.containsKey("drop_path_rate")) {
            c = c.withDropPathRate(real(o, "drop_path_rate"));
        }
        if (o.containsKey("zero_init_last")) {
            c = c.withZeroInitLast(bool(o, "zero_init_last"));
        }
        if (o.containsKey("seed")) {
            c = c.withSeed(integer(o, "seed"));
        }
        // ResNets take any input size; img_size only sets the data default (timm's input_size)
        int size = o.containsKey("img_size") ? integer(o, "img_size") : c.stem() == ResNetConfig.Stem.SMALL ? 32 : 224;
        return new CreatedModel(name, Family.RESNET, new ResNet(c), c,
                PretrainedCfg.imagenet(c.inChans(), size, "bicubic", 0.875));
    }

    private static VitConfig vitOverrides(VitConfig c, Map<String, String> o) {
        if (o.containsKey("img_size") || o.containsKey("patch_size")) {
            c = c.withImgSize(o.containsKey("img_size") ? integer(o, "img_size") : c.imgSize(),
                    o.containsKey("patch_size") ? integer(o, "patch_size") : c.patchSize());
        }
        if (o.containsKey("in_chans")) {
            c = c.withInChans(integer(o, "in_chans"));
        }
        if (o.containsKey("depth")) {
            c = c.withDepth(integer(o, "depth"));
        }
        if (o.containsKey("drop_path_rate")) {
            c = c.withDropPathRate(real(o, "drop_path_rate"));
        }
        if (o.containsKey("drop_rate")) {
            c = c.withDropRate(real(o, "drop_rate"));
        }
        if (o.containsKey("pos_embed")) {
            c = c.withPosEmbed(o.get("pos_embed").equalsIgnoreCase("learn") ? VitConfig.PosEmbedType.LEARNED
                    : enumValue(VitConfig.PosEmbedType.class, o, "pos_embed"));
        }
        if (o.containsKey("init")) {
            c = c.withInit(enumValue(VitConfig.InitMode.class, o, "init"));
        }
        if (o.containsKey("seed")) {
            c = c.withSeed(integer(o, "seed"));
        }
        return c;
    }

    private static CreatedModel vit(String name, Map<String, String> o) {
        VitConfig c = vitOverrides(VitConfig.named(name), o);
        if (o.containsKey("num_classes")) {
            c = c.withNumClasses(integer(o, "num_classes"));
        }
        if (o.containsKey("global_pool")) {
            c = c.withGlobalPool(o.get("global_pool"));
        }
        return new CreatedModel(name, Family.VIT, new VisionTransformer(c), c,
                PretrainedCfg.imagenet(c.inChans(), c.imgSize(), "bicubic", 0.9));
    }

    private static CreatedModel mae(String name, Map<String, String> o) {
        MaeConfig c = MaeConfig.named(name);
        c = c.withEncoder(vitOverrides(c.encoder(), o));
        if (o.containsKey("decoder_embed_dim") || o.containsKey("decoder_depth") || o.containsKey("decoder_num_heads")) {
            c = c.withDecoder(o.containsKey("decoder_embed_dim") ? integer(o, "decoder_embed_dim") : c.decoderEmbedDim(),
                    o.containsKey("decoder_depth") ? integer(o, "decoder_depth") : c.decoderDepth(),
                    o.containsKey("decoder_num_heads") ? integer(o, "decoder_num_heads") : c.decoderNumHeads());
        }
        if (o.containsKey("mask_ratio")) {
            c = c.withMaskRatio(real(o, "mask_ratio"));
        }
        if (o.containsKey("norm_pix_loss")) {
            c = c.withNormPixLoss(bool(o, "norm_pix_loss"));
        }
        return new CreatedModel(name, Family.MAE, new MaskedAutoencoderViT(c), c,
                PretrainedCfg.imagenet(c.encoder().inChans(), c.encoder().imgSize(), "bicubic", 0.9));
    }

    private static int integer(Map<String, String> o, String key) {
        try {
            return Integer.parseInt(o.get(key).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be an integer, got '" + o.get(key) + "'");
        }
    }

    private static double real(Map<String, String> o, String key) {
        try {
            return Double.parseDouble(o.get(key).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, got '" + o.get(key) + "'");
        }
    }

    private static boolean bool(Map<String, String> o, String key) {
        String v = o.get(key).trim().toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException(key + " must be true or false, got '" + o.get(key) + "'");
        }
        return Boolean.parseBoolean(v);
    }

    private static <E extends Enum<E>> E enumValue(Class<E> type, Map<String, String> o, String key) {
        String v = o.get(key).trim();
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v)) {
                return e;
            }
        }
        List<String> valid = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            valid.add(e.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(key + " must be one of " + valid + ", got '" + v + "'");
    }
}
